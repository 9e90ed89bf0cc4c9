"""Package data: the Lark grammar of the pmir language (``pmir.lark``)."""
