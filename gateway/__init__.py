"""The edge: validates what homes send, quarantines what is wrong, republishes the rest."""
