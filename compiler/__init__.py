"""catnn.compiler: meaning (checks, normal forms), planar factorisation, plans and emitters."""
