from depchain.cli import main

main()
