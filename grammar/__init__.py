"""catnn.grammar: the Lark grammar of the diagram language and the parser to a spanned AST."""
