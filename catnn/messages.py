"""Every message template catnn shows a user, in one place so wording stays consistent.

>>> ARITY_COMPOSE.format(left="f", lout=2, right="g", rin=3)
"cannot compose: 'f' has 2 outputs but 'g' expects 3 inputs"

Templates use ``str.format`` fields; golden tests assert on the rendered text.
"""

# -- diagram algebra ---------------------------------------------------------------------------
ARITY_COMPOSE = "cannot compose: '{left}' has {lout} outputs but '{right}' expects {rin} inputs"
ARITY_SUM = "cannot add a {k1} -> {l1} morphism to a {k2} -> {l2} morphism"
LABEL_RANGE = "vertex {label} is out of range for a {k} -> {l} diagram"
LABEL_TWICE = "vertex {label} appears in more than one place"
LABEL_MISSING = "vertex {label} is in no block"
EMPTY_BLOCK = "a block must contain at least one vertex"
NEGATIVE_ARITY = "arity must be a non-negative integer, got {value!r}"
NOT_PAIRING = "{group} diagrams pair vertices two by two, but block {block} has {size} vertices"
NOT_PERMUTATION = "{perm!r} is not a permutation of 0..{last}"
NOT_DIAGRAM = "expected a diagram or morphism, got {kind}"
LOOP_MISMATCH = "cannot combine morphisms whose loops evaluate to {a} and {b}"

# -- coefficients ------------------------------------------------------------------------------
NOT_LAURENT = "cannot divide by {divisor}: coefficients are Laurent polynomials in n"
ZERO_DIVISION = "division by zero"
BAD_SCALAR = "expected a number or a polynomial in n, got {kind}"
NEEDS_N = "{what} depends on n: give the group a size, e.g. catnn.group('{group}', n=5)"

# -- groups ------------------------------------------------------------------------------------
UNKNOWN_GROUP = "unknown group {name!r}; known groups: {known}"
BAD_SIZE = "{group} needs {condition}, got n={n!r}"
TOO_LARGE = ("{what} has {count} elements, over the limit of {limit}; "
             "catnn refuses rather than hang (k + l = {m})")
