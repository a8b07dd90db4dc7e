"""Trust gaps: every dependency whose owner or origin was not made explicit and
verified. :mod:`catalogue` names each kind of gap; :mod:`rules` finds them."""
