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

# >>> catnn compiler/runtime (issue 4): plans, emitters, catnn.nn, compile/explain
NO_KERNELS = "no block kernels for {kind} diagrams of group {group}; register them in catnn.compiler.kernels"
BAD_NAME = "cannot use {name!r} as a Python {what} in generated code"
BAD_BACKEND = "unknown backend {name!r}; known backends: {known}"
BAD_INPUT_RANK = "{layer} expects input (batch, {channels}{axes}) with {k} trailing axes of size n, got shape {shape}"
BAD_INPUT_CHANNELS = "{layer} expects {channels} input channels, got {got} (input shape {shape})"
BAD_INPUT_SIZES = "{layer} expects equal trailing axes of size n, got shape {shape}"
BAD_INPUT_N = "{layer} is built for n={n}, got trailing axes of size {got}"
LAYER_ARITY = "diagram {diagram} is {dk} -> {dl}, but the layer is {k} -> {l}"
BAD_CHANNELS = "{what} must be a positive integer, got {value!r}"
NOTHING_TO_COMPILE = "{path} defines no morphism or layer to compile"
NOT_EQUIVARIANT_NONLINEARITY = ("the pointwise nonlinearity '{name}' is not {group}-equivariant: "
                                "pointwise maps commute only with permutation groups (S_n, A_n)")
# <<< catnn compiler/runtime (issue 4)

# -- SO(n), Sp(n), A_n, H_n, B_n (Levi-Civita and jellyfish diagrams) ------------------------------
EPS_NO_FREE = "an ε-diagram needs at least one free vertex"
EPS_NOT_PAIR = "ε-diagrams pair the non-free vertices two by two, but block {block} has {size} vertices"
EPS_NOT_BRAUER = "ε-diagrams combine only with Brauer diagrams, but block {block} has {size} vertices"
EPS_ORDER_MISMATCH = "cannot combine ε-diagrams with {a} and {b} free vertices: both must have n"
EPS_WRONG_ORDER = "an ε-diagram with {order} free vertices has no matrix for n={n}: it needs exactly n"
EPS_ARGS = "eps takes no arguments (0 -> n) or two, eps(k, l) with k + l = n = {n}; got {args}"
NOT_SO_DIAGRAM = "{group}({n}) diagrams are Brauer diagrams or ε-diagrams with {n} free vertices, got {what}"
JELLYFISH_ALGEBRA = "{operation} of A_n jellyfish diagrams is not supported; use their matrices"
JELLYFISH_BLOCKS = "an A_{n} jellyfish needs n-1 or n blocks, got {blocks}"
NOT_A_DIAGRAM = "A({n}) diagrams are partition diagrams or jellyfish with n-1 or n blocks, got {what}"
NOT_FILTERED = "{group} diagrams have {rule}, but block {block} has {size} vertices"
SP_LOOP = ("this morphism was built with closed loops worth {loop}, but Sp(n) loops are worth -n: "
           "compose with G.compose(f, g) or lift with G.lift(f) first")
