from depchain.entry import main

main()
