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

# -- the language: syntax (catnn.grammar) -------------------------------------------------------
NOT_TEXT = "expected program text (a str), got {kind}"
EMPTY_PROGRAM = ("empty program: expected a group declaration or a definition "
                 "(diagram, morphism, layer or network)")
EMPTY_EXPRESSION = "empty expression: expected a diagram or morphism"
UNEXPECTED = "unexpected {found}; expected {expected}"
UNEXPECTED_CHARACTER = "unexpected character '{char}'"
STRAY_CHARACTER = "stray character {shown}(U+{code:04X} {name})"
DID_YOU_MEAN = "; did you mean '{suggestion}'?"
MALFORMED_NUMBER = "malformed number '{text}': write numbers as 3, 0.25 or 1/2"
NOT_INTEGER = "{what} must be a whole number, got {text}"
UNCLOSED_BLOCK = "unterminated block: '{{' is never closed"
UNCLOSED_BRACKET = "'{bracket}' is never closed"
MIXED_COMPOSITION = "cannot mix '>>' and '∘' in one chain: add parentheses"
RESERVED_WORD = "'{word}' is a reserved word and cannot be used as a name"
SYNTAX_ERROR = "syntax error: {detail}"

# -- the language: meaning (catnn.compiler.check) -----------------------------------------------
UNKNOWN_NAME = "unknown name '{name}'"
USED_BEFORE_DEFINED = "'{name}' is used before its definition on line {line}"
SELF_REFERENCE = "'{name}' refers to itself; definitions cannot be recursive"
DUPLICATE_DEFINITION = "'{name}' is already defined on line {line}"
NOT_AN_EXPRESSION = "'{name}' is a {kind}; only diagrams and morphisms can appear in expressions"
NOT_A_GENERATOR = "'{name}' is a {kind}, not a generator: it takes no arguments"
GENERATOR_ARGUMENTS = "the generator '{name}' does not take the arguments ({args})"
GROUP_TWICE = "the group is already declared on line {line}"
GROUP_AFTER_DEFINITIONS = "the group must be declared before the first definition (line {line})"
UNKNOWN_LITERAL = "unknown kind of diagram literal '{tag}[...]'; the tagged literals are {known}"
LITERAL_FORM = "'{tag}[...]' literals are written like {form}"
LABEL_ZERO = "vertex labels start at 1: outputs are 1, 2, ... and inputs 1', 2', ..."
LITERAL_MISSING = "vertex {label} is in no block of this {k} -> {l} diagram"
DECLARED_ARITY = "'{name}' is declared {k} -> {l} but its value is {vk} -> {vl}"
NOT_SINGLE_DIAGRAM = ("'{name}' is declared a diagram but its value is {value}; "
                      "declare it a morphism instead")
SCALAR_SUM = "cannot add a scalar and a {k} -> {l} morphism; scale it instead, e.g. 2 * f"
MORPHISM_PRODUCT = "cannot multiply two morphisms: compose them with '>>' or tensor them with '@'"
DIVIDE_BY_MORPHISM = "cannot divide by a morphism, only by a scalar"
POWER_OF_MORPHISM = "'^' raises a scalar to a power; the tensor power of a morphism is f ** {exponent}"
TENSOR_POWER_OF_SCALAR = "'**' is the tensor power of a morphism; a power of a scalar is x^{exponent}"
LIMIT_EXCEEDED = "{what} is too large: the limit is {limit}"
SOURCE_TOO_LARGE = ("the compiled module would take about {size} bytes of source with this definition, over the "
                    "limit of {limit}; catnn refuses rather than write it (use the layer in memory, or fewer diagrams)")
LEARN_ARITY = "layer '{name}' is {k} -> {l} but this is a {vk} -> {vl} morphism"
LEARN_ZERO = "learn(...) cannot list the zero morphism"
LEARN_DUPLICATE = "this is already listed in learn(...)"
LAYER_EMPTY = "{group} has no equivariant maps {k} -> {l}: the spanning set is empty"
STAGE_NEEDS_WIDTHS = "the layer '{name}' needs channel widths here, e.g. {name}[1 -> 16]"
NONLINEARITY_WIDTHS = "the nonlinearity '{name}' takes no channel widths"
STAGE_NOT_LAYER = "'{name}' is a {kind}; a network stage is a layer or a nonlinearity"
UNKNOWN_STAGE = "unknown layer or nonlinearity '{name}' (nonlinearities: {known})"
WIDTH_POSITIVE = "a channel width must be at least 1"
NETWORK_NO_LAYER = "network '{name}' has no layer"
NETWORK_INPUT = "network '{name}' takes {k} inputs but its first layer '{layer}' expects {lk}"
NETWORK_OUTPUT = "network '{name}' is declared {k} -> {l} but its last layer '{layer}' gives {m} outputs"
CHANNEL_MISMATCH = "channel widths do not chain: '{left}' gives {out} channels but '{right}' takes {inp}"
FILE_UNREADABLE = "cannot read {path}: {reason}"
COMPILE_PATH = "catnn.compile takes program text; to read the file {path!r} use catnn.load"

# -- SO(n), Sp(n), A_n, H_n, B_n (Levi-Civita and jellyfish diagrams) ------------------------------
EPS_NO_FREE = "an ε-diagram needs at least one free vertex"
EPS_NOT_PAIR = "ε-diagrams pair the non-free vertices two by two, but block {block} has {size} vertices"
EPS_NOT_BRAUER = "ε-diagrams combine only with Brauer diagrams, but block {block} has {size} vertices"
EPS_ORDER_MISMATCH = "cannot combine ε-diagrams with {a} and {b} free vertices: both must have n"
EPS_WRONG_ORDER = "an ε-diagram with {order} free vertices has no matrix for n={n}: it needs exactly n"
EPS_ARGS = "eps takes no arguments (0 -> n) or two, eps(k, l) with k + l = n = {n}; got {args}"
NOT_SO_DIAGRAM = "{group}({n}) diagrams are Brauer diagrams or ε-diagrams with {n} free vertices, got {what}"
JELLYFISH_BLOCKS = "an A_{n} jellyfish needs n-1 or n blocks, got {blocks}"
NOT_A_DIAGRAM = "A({n}) diagrams are partition diagrams or jellyfish with n-1 or n blocks, got {what}"
NOT_FILTERED = "{group} diagrams have {rule}, but block {block} has {size} vertices"
SP_LOOP = ("this morphism was built with closed loops worth {loop}, but Sp(n) loops are worth -n: "
           "compose with G.compose(f, g) or lift with G.lift(f) first")

# -- graph automorphism groups Aut(G) and bilabelled graphs ----------------------------------------
GRAPH_VERTICES = "a bilabelled graph needs a non-negative number of vertices, got {value!r}"
GRAPH_VERTEX_RANGE = "vertex {vertex!r} is out of range for a graph on {v} vertices (0..{v}-1)"
GRAPH_BAD_EDGE = "an edge joins two vertices, got {edge!r}"
GRAPH_GLUE = "cannot glue a {k1} -> {l1} graph onto a {k2} -> {l2} graph: the labels must match"
GRAPH_RELABEL = "a graph with {m} labels cannot be split as {k} inputs and {l} outputs"
GRAPH_TEXT = "cannot read bilabelled graph {text!r}: {why}"
GRAPH_CANON_LIMIT = ("the canonical form of this {v}-vertex graph needs more than {limit} search nodes; "
                     "catnn refuses rather than hang")
AUT_NEEDS_GRAPH = "Aut needs a graph: catnn.group('Aut', graph=A) with A an n x n 0/1 adjacency matrix"
AUT_NOT_SQUARE = "the adjacency matrix must be square and non-empty, got shape {shape}"
AUT_NOT_BINARY = "the adjacency matrix must have 0/1 entries (loops on the diagonal allowed), found {value!r}"
AUT_NOT_SYMMETRIC = "the adjacency matrix must be symmetric (an undirected graph), but A[{i}, {j}] != A[{j}, {i}]"
AUT_GRAPH_KIND = "Aut needs an undirected graph without parallel edges (self-loops allowed), got a {kind}"
AUT_SIZE_MISMATCH = "n={n} does not match the graph, which has {size} vertices"
AUT_NOT_DIAGRAM = "Aut(G) morphisms are bilabelled graphs or partition diagrams, got {kind}"
AUT_NOT_SEPARATED = ("could not span Hom_Aut(G) for k + l = {m}: graphs with up to {c} internal vertices "
                     "per piece reach rank {rank} of {dim}")
# in the language: graph declarations, group Aut(G), graph[...] literals
AUT_NEEDS_GRAPH_DECL = "Aut needs a graph: declare one first (graph G = cycle(5)) and write group Aut(G)"
GROUP_NO_GRAPH = "group {group} does not take a graph; only Aut(G) does"
GRAPH_UNKNOWN = "unknown graph '{name}': declare it before the group, e.g. graph {name} = cycle(5)"
GRAPH_FAMILY_UNKNOWN = "unknown graph '{name}'; graphs are {known}"
GRAPH_FAMILY_ARGS = "{name} takes {takes}, e.g. {example}"
GRAPH_MATRIX_ROWS = "an adjacency matrix needs one row of {n} entries per vertex; row {row} has {m}"
GRAPH_EDGE_LABEL = "{label} is not in any block of this graph; name labelled vertices in blocks first, e.g. {{1}} {{1'}}"
GRAPH_LITERAL_GROUP = ("graph[...] literals with edges or internal vertices are Aut(G) diagrams; "
                       "declare graph G = ... and group Aut(G) (the group is {group})")

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
NO_SCRIPT = ("{what} cannot be compiled by torch.jit.script (its code is generated Python, not TorchScript): "
             "use torch.jit.trace(module, example_inputs), torch.export.export or torch.compile")
# <<< catnn compiler/runtime (issue 4)

# -- drawing (catnn.draw, catnn draw) --------------------------------------------------------------
DRAW_FORMAT = "cannot draw to {path}: the output file must end in .svg or .png"
DRAW_NEEDS_MATPLOTLIB = ("PNG output needs matplotlib: pip install 'catnn[draw]' "
                         "(or write .svg, which needs nothing)")
DRAW_WRITE = "cannot write {path}: {reason}"
DRAW_NO_DEFINITION = "the program has no definition {name!r} (definitions: {known})"
DRAW_NOTHING = "{path} has no definitions to draw"
DRAW_SAME_FILE = "refusing to draw over the program itself ({path}): give another output with -o"

# >>> networks (issue 6): feature spaces, nonlinearities, bilinear and mixed layers, masks
FEATURE_SPACE_TEXT = "cannot read the feature space {text!r}: {why}; write it like 10*V0 + 5*V1 + 2*V2"
FEATURE_SPACE_SORTS = ("a feature space's orders must all be plain orders or all typed orders of one length "
                       "(one entry per sort); got {orders}")
FEATURE_SPACE_ENTRY = "a feature space maps orders to channel counts, both whole numbers (order >= 0, channels >= 1); got {order!r}: {channels!r}"
POINTWISE_NOT_EQUIVARIANT = "'{name}' is not {group}-equivariant on tensors of order {order}: use {instead}"
NORM_NOT_EQUIVARIANT = ("'{name}' is not {group}-equivariant: {group} does not preserve the Euclidean norm "
                        "of a tensor; use gate")
GATE_NEEDS_SCALARS = ("'gate' needs order-0 (invariant) channels to compute its gates, but the features here are "
                      "{space}; add order-0 channels (a layer to e.g. {example}) or use {instead}")
POOL_NOT_INVARIANT = ("'{name}' is not {group}-invariant on tensors of order {order}: the sum of all entries is "
                      "invariant only for groups that fix the all-ones vector; use a {order} -> 0 layer")
UNKNOWN_NONLINEARITY = "unknown nonlinearity {name!r}; known: {known}"
SPACE_MISMATCH = "{what} expects features {expected}, got {got}"
STAGE_ORDERS = "'{right}' expects {rin} but '{left}' gives {lout}"
STAGE_WIDTH_ORDERS = "the widths of '{name}' must cover its orders {orders}, got {given}"
LAYER_SPACE_CHANNELS = ("a layer declares orders only, like V0 + V2; give channels where a network uses it, "
                        "e.g. {name}[4*V0 + 2*V2 -> 3*V1]")
WIDTH_NEEDS_CHANNELS = "give every order its channel count here, e.g. 4*V{order}"
SPACE_NAME = "expected V, V<order> or V**<order> in a feature space, got '{name}'"
SPACE_OPERATOR = "write channels times a tensor power as 4*V2"
PRODUCT_ONLY_INPUT = "a tensor product a @ b can only be the input of a layer (a bilinear layer a @ b -> l)"
BILINEAR_OUTPUT = "a bilinear layer a @ b -> l has a single output order"
MIXED_NO_LEARN = "learn(...) is for single-order layers; a mixed layer '{name}' learns its group's full spanning sets"
MIXED_EMPTY = "{group} has no equivariant maps between {ins} and {outs}: every block is empty"
NETWORK_SPACE_OUTPUT = "network '{name}' is declared to give {l} but its stages give {m}"
NETWORK_SPACE_INPUT = "network '{name}' takes {k} but its first layer '{layer}' expects {lk}"
MASK_SHAPE = "{layer}: the node mask must be (batch, n) = {expected} booleans, got shape {shape}"
MASK_GROUP = ("{layer}: masks (padded variable-size batches) need a layer whose diagrams do not depend on n, "
              "but the {group} plan uses the constants {constants} (a Levi-Civita symbol has one leg per "
              "dimension: a smaller sample would need another one)")
MASK_PAIRS = ("{layer}: an Sp(n) mask must keep whole symplectic pairs (coordinates 2j and 2j+1 together, "
              "an even padded size), so that each sample's part of J is its own J")
MASK_FIXED_N = "{layer} is built for n={n}: masks are for layers whose n is left free"
BILINEAR_CHANNELS = "a channelwise bilinear layer needs equal channels in both factors, got {a} and {b}"
BAD_CHANNEL_MODE = "unknown channel mode {mode!r}; known: 'pair' (x_c ⊗ y_c) and 'outer' (x_c ⊗ y_d)"
NETWORK_STAGE = "a network stage must be a catnn layer, nonlinearity or pooling module, got {kind}"
FEATURES_INPUT = "{what} expects {expected}, got {got}"
POOL_BEFORE_LAYER = "'{name}' cannot come before the first layer of a network: its input channels are not known there"
BILINEAR_WIDTHS = "a bilinear layer takes plain widths, channels per factor -> out, e.g. {name}[4 -> 8]"
UNKNOWN_PAIRING = ("unknown channel pairing {name!r}: write outer(a @ b) to multiply every channel of x with "
                   "every channel of y, or a @ b for channel c times channel c")
BILINEAR_ZERO = ("this bilinear layer is identically zero under {group}: it multiplies channel c with channel c "
                 "of the same input, and every one of its {count} learned map{s} vanishes on x_c ⊗ x_c (as the "
                 "cross product x × x and the symplectic form ω(x, x) do); write outer({a} @ {a}) -> {l} to multiply different "
                 "channels, x_c ⊗ x_d")
# <<< networks (issue 6)

# >>> classical groups in the compiler (issue 5)
CONSTANT_SIZE = "its constant {kind} needs n = {sizes}, got n={n}"
# <<< classical groups in the compiler (issue 5)

# >>> the command line and the demo (issue 7)
CLI_NEEDS_N = "basis depends on n: add --n N (e.g. --n {n}) or write the group with its size, {group}({n})"
FILE_UNWRITABLE = "cannot write {path}: {reason}"
COMPILE_SAME_FILE = "refusing to compile over the program itself ({path}): give another output with -o"
TRAIN_STEPS_OR_SECONDS = "train() takes steps or seconds, not both"
# <<< the command line and the demo (issue 7)

# >>> indefinite orthogonal groups O(p,q), SO(p,q) (issue 14)
BAD_SIGNATURE = ("{group}(p,q) needs integers p, q >= 0 with p + q >= 1 (e.g. {group}(1,3), the Lorentz group), "
                 "got p={p!r}, q={q!r}")
NORM_INDEFINITE = ("'{name}' is not {group}-equivariant: {group} preserves no positive norm (the η-norm "
                   "xᵀηx of a vector is indefinite, and boosts change Euclidean norms); use gate, with "
                   "invariants from a k -> 0 layer")
# <<< indefinite orthogonal groups O(p,q), SO(p,q) (issue 14)

# >>> products of groups (issue 12)
MPOLY_SIZES = "the coefficient uses {symbol} but only {count} sizes were given"
NOT_LAURENT_SORTS = "cannot divide by {divisor}: coefficients are Laurent polynomials in n_0, n_1, ..."
POLY_IN_PRODUCT = ("the polynomial {poly} in n does not say which sort's size it means; over a product use "
                   "MPoly.symbol(s) for n_s")
BAD_SCALAR_SORTS = "expected a number or a polynomial in n_0, n_1, ..., got {kind}"
PRODUCT_EMPTY = "a product diagram needs at least one part (one diagram per sort)"
PRODUCT_PART = "each part of a product diagram must be a diagram of one sort, got {kind}"
PRODUCT_OPERAND = "expected a product diagram or morphism (one diagram per sort), got {kind}"
PRODUCT_SORTS = "cannot combine diagrams of products with {a} and {b} sorts"
PRODUCT_ARITY_SUM = "cannot add a {k1} -> {l1} product morphism to a {k2} -> {l2} one"
PRODUCT_COMPOSE = "cannot compose in sort {sort}: '{left}' has {lout} outputs there but '{right}' expects {rin} inputs"
PRODUCT_TEXT = "cannot read the product diagram {text!r}: {why}; write it like ({{1, 1'}} | {{1, 2'}} {{2, 1'}})"
NOT_PRODUCT = "{group} is a single group; product diagrams need a product such as 'S x O(3)'"
PRODUCT_EMPTY_GROUP = "a product of groups needs at least one factor"
PRODUCT_FACTOR = "the factors of a product must be catnn groups, got {kind}"
PRODUCT_FACTOR_TEXT = "cannot read the factor {factor!r} of the product {name!r}: {why}"
PRODUCT_N = ("{group} is a product: give one size per factor, n=({example}) (None leaves a size free), "
             "or write them in the name, e.g. {named}; got n={n!r}")
PRODUCT_SIZES = "{group} has {r} factors, so it needs {r} sizes (or matrices), got {ns!r}"
PRODUCT_NEEDS_NS = "{what} depends on the sizes: give every factor of {group} a size, e.g. 'S(5) x O(3)'"
PRODUCT_ORDERS = "orders of {group} are tuples with one entry per factor ({r} of them), got {value!r}"
PRODUCT_LOOP = ("this morphism was composed with loops worth n, but {group} values them differently in some "
                "sort: build it with G.compose or G.lift")
PRODUCT_WRONG_SORTS = "the product diagram {d} has {sorts} parts but {group} has {r} factors"
PRODUCT_REJECT = "sort {sort} ({group}): {why}"
PRODUCT_ACT_SHAPE = "a typed tensor of orders {k} must end in axes of sizes {expected}, got shape {shape}"
MPOLY_TEXT = "cannot read the coefficient {text!r}: {factor!r} is neither a number nor a size symbol n_0, n_1, ..."
PRODUCT_TERM = "cannot read the term {term!r} of a product morphism: write it like 1/2*n_0 * ({{1, 1'}} | {{1, 1'}})"
# <<< products of groups (issue 12)

# >>> products of groups: layers
BAD_TYPED_INPUT = ("{layer} expects input (batch, {channels}, {axes}) with equal sizes per sort (and the fixed "
                   "sizes), got shape {shape}")
NEEDS_SORT_SIZE = ("{layer} has no input axis of sort {sort} to read its size from: fix it, "
                   "e.g. n={example}")

# >>> jellyfish algebra (issue 16)
JELLYFISH_NEEDS_N = ("{operation} of A_n jellyfish needs their n: take them from a group, e.g. "
                     "catnn.group('A', n=4).lift(d) or its spanning set, or write Jellyfish(partition, n)")
JELLYFISH_N_MISMATCH = "{operation} of jellyfish of different A_n: n = {sizes}"
# <<< jellyfish algebra (issue 16)

# >>> exact numbers and hostile input (issue 15)
FILE_NOT_REGULAR = "cannot read {path}: it is not a regular file ({kind})"
FILE_TOO_LARGE = "cannot read {path}: it is larger than {limit} bytes, the limit for a program"
NOT_UTF8 = "the file is not UTF-8 text: byte 0x{byte:02x} cannot start or continue a character here"
OUTPUT_NOT_REGULAR = "refusing to write {path}: it is not a regular file ({kind})"
CLI_OPTION = "must be {what}, got {value!r}"
EINSUM_ALPHABET = ("this needs {count} distinct tensor axes in one contraction, over the {limit} that generated "
                   "code can name; split the diagram into smaller pieces")
EXPLAIN_FIXED_N = "the program fixes n={n} ({group}): --n {given} would contradict it; leave --n out"
# <<< exact numbers and hostile input (issue 15)

# -- typed features over products of groups (catnn.typed) ------------------------------------------
TYPED_SIZES = ("{what}: the axes of sort {sort} must all have one size{fixed_note}, got sizes {sizes} "
               "(shapes {shapes})")
TYPED_POINTWISE = ("'{name}' is not {group}-equivariant on tensors of order {order}: it does not commute with "
                   "{factor} on the {axes} axes of sort {sort}; use {instead}")
TYPED_GATE = ("'gate' gates order {order} by the channels of order {needs} (its permutation sorts only), "
              "which the features lack: add C*V({needs_text})")
TYPED_SPACE = ("{what}: over {group} a feature space has typed orders, one entry per sort ({r} here), "
               "like 4*V({example}); got {space}")
MASK_SORT = "{layer}: a mask on sort {sort}, but {group} has sorts 0..{last}"
MASK_FIXED_SORT = "{layer}: sort {sort} ({factor}) is fixed at n={n}: masks are for sorts whose size is left free"
MASK_SORT_GROUP = ("{layer}: sort {sort} ({factor}) cannot be masked: a padded sample computes as if alone only on "
                   "sorts whose diagrams do not depend on n and need no constants (S, O, H, B)")
TYPED_NORMALIZE_CONSTANTS = ("normalize=True over {group}: a summed-out block meets a constant (ε, J, η, ...), "
                             "which the per-sort means do not handle yet; use normalize=False")
TYPED_STAGE = "stage {index} ({kind}) cannot run in a network over {group}: use MixedLinear, EquivariantLinear or a stage"
TYPED_STAGE_GROUP = ("{what} over typed features needs the product group at construction "
                     "(its parameters depend on which sorts are permutations): pass it, e.g. Gate(G, features)")
POOL_SORT = ("'{name}' over sort {sort}: {group} has no such sort (pooling per sort is for products of groups, "
             "sorts 0, 1, ...; sort=None pools every axis)")

# >>> products of groups in the language (issue 12)
PRODUCT_SIGN = "expected 'x' or '×' between the factors of a product of groups, got '{found}'"
SORT_TWICE = "the sort name '{name}' is already used by sort {sort}"
SORT_NAME_RESERVED = "the sort name '{name}' is a reserved word; choose another"
UNKNOWN_SORT = "unknown sort '{name}': {group} has the sorts {known}"
NO_SORT_NAMES = "the sorts of {group} have no names (name them on the group line, e.g. group points: S x space: O(3))"
SORT_ORDER_TWICE = "the sort '{name}' is given twice in this order tuple"
ORDERS_MIXED = "write an order tuple either by position, (1, 0), or by sort name, (points: 1), not both"
ORDERS_LENGTH = "an order tuple of {group} has {r} entries, one per sort, got {count}"
TYPED_ARITY_NEEDED = ("over {group} orders are tuples, one entry per sort: write {example} instead of {k} -> {l}")
TYPED_NEEDS_PRODUCT = ("typed orders such as {text} need a product of groups on the group line, "
                       "e.g. group S x O(3); this program is over {group}")
PRODUCT_LITERAL_SINGLE = ("a product diagram (... | ...) needs a product of groups on the group line, "
                          "e.g. group S x O(3); this program is over {group}")
PRODUCT_PARTS = "this product diagram has {count} parts but {group} has {r} sorts: one part per sort"
PRODUCT_GENERATOR = ("'{name}' is a generator of each sort, not of {group}: write one part per sort, e.g. "
                     "({example})")
PRODUCT_PLAIN_LITERAL = ("over {group} a diagram literal needs its sorts: write one part per sort, "
                         "({example}), or give the definition a typed arity such as : {arity}")
PRODUCT_DIM = "over {group} n does not say which sort's size it means: write {symbols}"
BLOCK_JOINS_SORTS = ("block {block} joins vertex {va} of sort {a}{a_name} and vertex {vb} of sort {b}{b_name}; "
                     "a block stays within one sort (with a typed arity, vertices are numbered across the sorts, "
                     "sort 0's first)")
SORT_MISMATCH = ("sort mismatch in '{op}': '{left}' has outputs {lout} but '{right}' takes inputs {rin}; "
                 "they differ in sort {sort}{name}")
PRODUCT_ARITIES_SUM = "cannot add a {k1} -> {l1} morphism to a {k2} -> {l2} one"
PRODUCT_SCALAR_SUM = "cannot add a number to a {k} -> {l} morphism (only to one whose orders are all 0)"
PRODUCT_ENTRY = ("a program over a product of groups is checked by catnn.compiler.check_program (or "
                 "catnn.compile), not by catnn.compiler.check.check_program, the checker of one group")
PRODUCT_NESTED = ("a part of a product diagram is an expression of one sort (here sort {sort}, {group}); "
                  "product diagrams do not nest")
PRODUCT_NAME_IN_PART = ("'{name}' is a {kind} of the whole product; a part of (... | ...) is an expression of sort "
                        "{sort} alone ({group}: its generators, literals and n); use '{name}' outside the parentheses")
TIMES_IN_EXPRESSION = "'×' multiplies groups on a group line (group S × O(3)); did you mean '*'?"
TRANSPOSE_OF_SCALAR = "'.T' flips a morphism; a number has nothing to flip"
# <<< products of groups in the language (issue 12)
# >>> networks and typed feature spaces over products in the language (issue 12)
STAGE_SORT_SINGLE = ("'{name}({sort})' pools over one sort of a product of groups; over {group} write '{name}' "
                     "(it pools every axis)")
STAGE_SORT_NOT_POOL = ("only a pooling (sum, mean) runs over one sort; '{name}' acts on every sort at once: "
                       "write '{name}' without ({sort})")
STAGE_SORT_RANGE = "'{name}({sort})': {group} has sorts 0..{last}"
TYPED_SPACE_TERM = ("over {group} a feature space has typed orders, one entry per sort: write V({example}) "
                    "or V(points: 1) with sort names, not {term}")
TYPED_SPACE_NUMBER = ("over {group} an order is a tuple, one entry per sort: write ({example}) or V({example}) "
                      "instead of {order}")
TYPED_LAYER_CHANNELS = ("a layer declares typed orders only, like V(1, 0) + V(1, 1); give channels where a "
                        "network uses it, e.g. {name}[1 -> 8*V(1, 0) + 4*V(1, 1)]")
TYPED_STAGE_ORDERS = "'{right}' expects {rin} but '{left}' gives {lout}{detail}"
TYPED_STAGE_SORT = "; they differ in sort {sort}{name}"
GRAPH_WALK_LENGTH = "a path or rooted cycle needs a length of at least 1 (edges), got {value!r}"
