package dev.kiln.frontend;

import com.github.javaparser.ast.Node;
import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import com.github.javaparser.ast.body.MethodDeclaration;
import com.github.javaparser.ast.body.VariableDeclarator;
import com.github.javaparser.ast.expr.AssignExpr;
import com.github.javaparser.ast.expr.BinaryExpr;
import com.github.javaparser.ast.expr.BooleanLiteralExpr;
import com.github.javaparser.ast.expr.CastExpr;
import com.github.javaparser.ast.expr.ConditionalExpr;
import com.github.javaparser.ast.expr.EnclosedExpr;
import com.github.javaparser.ast.expr.Expression;
import com.github.javaparser.ast.expr.FieldAccessExpr;
import com.github.javaparser.ast.expr.IntegerLiteralExpr;
import com.github.javaparser.ast.expr.LongLiteralExpr;
import com.github.javaparser.ast.expr.MethodCallExpr;
import com.github.javaparser.ast.expr.NameExpr;
import com.github.javaparser.ast.expr.ObjectCreationExpr;
import com.github.javaparser.ast.expr.ThisExpr;
import com.github.javaparser.ast.expr.UnaryExpr;
import com.github.javaparser.ast.expr.VariableDeclarationExpr;
import com.github.javaparser.ast.stmt.BlockStmt;
import com.github.javaparser.ast.stmt.DoStmt;
import com.github.javaparser.ast.stmt.EmptyStmt;
import com.github.javaparser.ast.stmt.ExpressionStmt;
import com.github.javaparser.ast.stmt.ForStmt;
import com.github.javaparser.ast.stmt.IfStmt;
import com.github.javaparser.ast.stmt.ReturnStmt;
import com.github.javaparser.ast.stmt.Statement;
import com.github.javaparser.ast.stmt.WhileStmt;
import dev.kiln.frontend.Values.BoolValue;
import dev.kiln.frontend.Values.IntValue;
import dev.kiln.frontend.Values.LinearLayer;
import dev.kiln.frontend.Values.ModuleInstance;
import dev.kiln.frontend.Values.Poison;
import dev.kiln.frontend.Values.TensorValue;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.ShapeException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Evaluates the supported subset of Java symbolically. Integers and booleans are computed at
 * build time; tensor expressions append nodes to the forward graph. Loops are unrolled and helper
 * methods inlined, so the graph has no control flow.
 */
final class Interpreter {
    /** Unrolled iterations allowed per model, to stop runaway loops with a clear error. */
    static final int MAX_UNROLLED_ITERATIONS = 100_000;

    private final ModelTranslator translator;
    private final ModuleInstance self;

    Interpreter(ModelTranslator translator, ModuleInstance self) {
        this.translator = translator;
        this.self = self;
    }

    /** Result of {@code new Linear(...)} before it is bound to a field. */
    record NewLinear(int in, int out, boolean bias) {
    }

    /** Result of {@code new Block(...)} for a nested model class, before it is bound to a field. */
    record NewModule(ClassOrInterfaceDeclaration declaration, List<Object> args) {
    }

    /** Result of {@code new Sequential(...)}: its children before they are bound to a field. */
    record NewSequential(List<Object> children) {
    }

    /** Layer classes without parameters and the ops they apply. */
    static final Map<String, String> ACTIVATIONS = Map.of("Tanh", "tanh", "ReLU", "relu", "Sigmoid", "sigmoid",
            "GELU", "gelu", "SiLU", "silu", "Flatten", "flatten");

    /** Local variables of one method frame, with block nesting. */
    static final class Scope {
        private final Scope parent;
        private final Map<String, Object> values = new HashMap<>();

        Scope(Scope parent) {
            this.parent = parent;
        }

        void define(String name, Object value) {
            values.put(name, value);
        }

        boolean has(String name) {
            return values.containsKey(name) || parent != null && parent.has(name);
        }

        Object get(String name) {
            Object value = values.get(name);
            return value != null || parent == null ? value : parent.get(name);
        }

        boolean set(String name, Object value) {
            if (values.containsKey(name)) {
                values.put(name, value);
                return true;
            }
            return parent != null && parent.set(name, value);
        }
    }

    /** Signals a {@code return} out of nested statements. */
    private record Returned(Object value) {
    }

    // ---- methods ---------------------------------------------------------------------------

    /** Inlines {@code method} of this instance with argument values, returning its result. */
    Object call(MethodDeclaration method, List<Object> args, Node site) {
        if (translator.callStack().contains(method)) {
            translator.error(DiagnosticIds.RECURSION, site, "method " + method.getNameAsString()
                    + " calls itself; Kiln inlines helper methods, so recursion is unsupported. Use a for loop with a constant bound");
            return Poison.INSTANCE;
        }
        if (method.getBody().isEmpty()) {
            translator.error(DiagnosticIds.UNSUPPORTED, site, "method " + method.getNameAsString() + " has no body");
            return Poison.INSTANCE;
        }
        translator.callStack().push(method);
        try {
            Scope scope = new Scope(null);
            for (int i = 0; i < args.size(); i++) {
                scope.define(method.getParameter(i).getNameAsString(), args.get(i));
            }
            int errorsBefore = translator.errorCount();
            Object result = execBlock(method.getBody().get(), scope);
            if (result instanceof Returned returned) {
                return returned.value();
            }
            if (translator.errorCount() > errorsBefore) {
                return Poison.INSTANCE;
            }
            if (!method.getType().isVoidType()) {
                translator.error(DiagnosticIds.UNSUPPORTED, method, "method " + method.getNameAsString()
                        + " ends without a return statement that Kiln can reach");
                return Poison.INSTANCE;
            }
            return null;
        } finally {
            translator.callStack().pop();
        }
    }

    // ---- statements ------------------------------------------------------------------------

    private Object execBlock(BlockStmt block, Scope outer) {
        Scope scope = new Scope(outer);
        for (Statement statement : block.getStatements()) {
            Object result = exec(statement, scope);
            if (result instanceof Returned) {
                return result;
            }
        }
        return null;
    }

    /** Executes one statement; returns a {@link Returned} when it returns. */
    Object exec(Statement statement, Scope scope) {
        return switch (statement) {
            case BlockStmt block -> execBlock(block, scope);
            case ExpressionStmt expression -> {
                execExpression(expression.getExpression(), scope);
                yield null;
            }
            case ReturnStmt ret -> new Returned(ret.getExpression().map(e -> eval(e, scope)).orElse(null));
            case ForStmt loop -> execFor(loop, scope);
            case IfStmt branch -> execIf(branch, scope);
            case WhileStmt loop -> {
                translator.error(DiagnosticIds.WHILE_LOOP, loop, "while loops are unsupported because the graph has a"
                        + " fixed number of steps; use 'for (int i = 0; i < N; i++)' with a compile-time constant N");
                yield null;
            }
            case DoStmt loop -> {
                translator.error(DiagnosticIds.WHILE_LOOP, loop, "do-while loops are unsupported because the graph has a"
                        + " fixed number of steps; use 'for (int i = 0; i < N; i++)' with a compile-time constant N");
                yield null;
            }
            case EmptyStmt empty -> null;
            default -> {
                translator.error(DiagnosticIds.UNSUPPORTED, statement, "statement '" + Instantiator.firstLine(statement)
                        + "' is outside the supported subset; use local variables, assignments, for loops with constant"
                        + " bounds, if on constants and return");
                yield null;
            }
        };
    }

    private void execExpression(Expression expression, Scope scope) {
        switch (expression) {
            case VariableDeclarationExpr declaration -> {
                for (VariableDeclarator variable : declaration.getVariables()) {
                    Object value = variable.getInitializer().map(e -> eval(e, scope)).orElse(Poison.INSTANCE);
                    scope.define(variable.getNameAsString(), value);
                }
            }
            case AssignExpr assign -> assign(assign, scope);
            case UnaryExpr unary when isIncrement(unary) -> increment(unary, scope);
            default -> eval(expression, scope);
        }
    }

    private void assign(AssignExpr assign, Scope scope) {
        if (!(assign.getTarget() instanceof NameExpr target) || !scope.has(target.getNameAsString())) {
            translator.error(DiagnosticIds.UNSUPPORTED, assign, "only local variables can be assigned in forward, not '"
                    + assign.getTarget() + "'; model fields are fixed once the model is built");
            return;
        }
        Object value = eval(assign.getValue(), scope);
        if (assign.getOperator() != AssignExpr.Operator.ASSIGN) {
            BinaryExpr.Operator operator = assign.getOperator().toBinaryOperator().orElse(null);
            value = operator == null ? Poison.INSTANCE
                    : binary(operator, scope.get(target.getNameAsString()), value, assign);
        }
        scope.set(target.getNameAsString(), value);
    }

    private static boolean isIncrement(UnaryExpr unary) {
        return switch (unary.getOperator()) {
            case PREFIX_INCREMENT, PREFIX_DECREMENT, POSTFIX_INCREMENT, POSTFIX_DECREMENT -> true;
            default -> false;
        };
    }

    private void increment(UnaryExpr unary, Scope scope) {
        if (unary.getExpression() instanceof NameExpr name && scope.get(name.getNameAsString()) instanceof IntValue value) {
            boolean up = unary.getOperator() == UnaryExpr.Operator.PREFIX_INCREMENT
                    || unary.getOperator() == UnaryExpr.Operator.POSTFIX_INCREMENT;
            scope.set(name.getNameAsString(), new IntValue(value.value() + (up ? 1 : -1)));
            return;
        }
        translator.error(DiagnosticIds.UNSUPPORTED, unary, "'" + unary + "' is unsupported; only int loop counters can be incremented");
    }

    private Object execFor(ForStmt loop, Scope outer) {
        Scope scope = new Scope(outer);
        for (Expression init : loop.getInitialization()) {
            execExpression(init, scope);
        }
        if (loop.getCompare().isEmpty()) {
            translator.error(DiagnosticIds.LOOP_BOUND, loop, "for loop without a condition never ends;"
                    + " write 'for (int i = 0; i < N; i++)' with a compile-time constant N");
            return null;
        }
        while (true) {
            Object condition = eval(loop.getCompare().get(), scope);
            if (!(condition instanceof BoolValue bool)) {
                if (condition != Poison.INSTANCE) {
                    translator.error(DiagnosticIds.LOOP_BOUND, loop.getCompare().get(), "loop condition '"
                            + loop.getCompare().get() + "' is not a compile-time constant; Kiln unrolls for loops, so"
                            + " write 'for (int i = 0; i < N; i++)' with N a literal, a static final int or a constructor constant");
                }
                return null;
            }
            if (!bool.value()) {
                return null;
            }
            if (translator.countUnrolledIteration() > MAX_UNROLLED_ITERATIONS) {
                translator.error(DiagnosticIds.LOOP_BOUND, loop, "loops unroll to more than " + MAX_UNROLLED_ITERATIONS
                        + " iterations; use fewer iterations");
                return null;
            }
            Object result = exec(loop.getBody(), scope);
            if (result instanceof Returned) {
                return result;
            }
            for (Expression update : loop.getUpdate()) {
                execExpression(update, scope);
            }
        }
    }

    private Object execIf(IfStmt branch, Scope scope) {
        Object condition = eval(branch.getCondition(), scope);
        if (condition instanceof BoolValue bool) {
            if (bool.value()) {
                return exec(branch.getThenStmt(), scope);
            }
            return branch.getElseStmt().map(s -> exec(s, scope)).orElse(null);
        }
        if (condition != Poison.INSTANCE) {
            translator.error(DiagnosticIds.DATA_DEPENDENT_IF, branch.getCondition(), "if condition '" + branch.getCondition()
                    + "' depends on tensor values, which are known only at run time; compute both branches and"
                    + " combine them with tensor ops instead");
        }
        return null;
    }

    // ---- expressions -----------------------------------------------------------------------

    /** Evaluates an expression at build time, or appends it to the graph. */
    Object eval(Expression expression, Scope scope) {
        return switch (expression) {
            case IntegerLiteralExpr literal -> new IntValue(literal.asNumber().longValue());
            case LongLiteralExpr literal -> new IntValue(literal.asNumber().longValue());
            case BooleanLiteralExpr literal -> new BoolValue(literal.getValue());
            case com.github.javaparser.ast.expr.DoubleLiteralExpr literal -> new Values.DoubleValue(literal.asDouble());
            case EnclosedExpr enclosed -> eval(enclosed.getInner(), scope);
            case CastExpr cast when cast.getType().asString().equals("int") || cast.getType().asString().equals("long") ->
                    eval(cast.getExpression(), scope);
            case NameExpr name -> name(name, scope);
            case FieldAccessExpr access -> fieldAccess(access, scope);
            case BinaryExpr binary -> binary(binary.getOperator(), eval(binary.getLeft(), scope),
                    eval(binary.getRight(), scope), binary);
            case UnaryExpr unary -> unary(unary, scope);
            case ConditionalExpr conditional -> conditional(conditional, scope);
            case MethodCallExpr call -> call(call, scope);
            case ObjectCreationExpr creation -> create(creation, scope);
            case com.github.javaparser.ast.expr.ArrayCreationExpr array when array.getInitializer().isPresent()
                    && array.getElementType().asString().equals("Tensor") -> tensors(array.getInitializer().get(), scope);
            case com.github.javaparser.ast.expr.ArrayInitializerExpr array -> tensors(array, scope);
            case com.github.javaparser.ast.expr.ArrayAccessExpr access -> element(access, scope);
            default -> {
                translator.error(DiagnosticIds.UNSUPPORTED, expression, "expression '" + expression
                        + "' is outside the supported subset; use tensor ops, layer calls, helper methods and int constants");
                yield Poison.INSTANCE;
            }
        };
    }

    /** Evaluates {@code new Tensor[] {a, b}}: several outputs of one method. */
    private Object tensors(com.github.javaparser.ast.expr.ArrayInitializerExpr array, Scope scope) {
        List<Object> values = new ArrayList<>();
        for (Expression element : array.getValues()) {
            Object value = eval(element, scope);
            if (value == Poison.INSTANCE) {
                return value;
            }
            if (!(value instanceof TensorValue)) {
                translator.error(DiagnosticIds.UNSUPPORTED, element, "the elements of a Tensor[] must be tensors, got '"
                        + element + "'");
                return Poison.INSTANCE;
            }
            values.add(value);
        }
        return new Values.TensorArray(List.copyOf(values));
    }

    /** Evaluates {@code outputs[k]} with a compile-time index. */
    private Object element(com.github.javaparser.ast.expr.ArrayAccessExpr access, Scope scope) {
        Object array = eval(access.getName(), scope);
        Object index = eval(access.getIndex(), scope);
        if (array == Poison.INSTANCE || index == Poison.INSTANCE) {
            return Poison.INSTANCE;
        }
        if (!(array instanceof Values.TensorArray tensors) || !(index instanceof IntValue i)) {
            translator.error(DiagnosticIds.UNSUPPORTED, access, "'" + access + "' needs a Tensor[] and a compile-time"
                    + " int index");
            return Poison.INSTANCE;
        }
        if (i.value() < 0 || i.value() >= tensors.values().size()) {
            translator.error(DiagnosticIds.SHAPE, access, "index " + i.value() + " is out of range for "
                    + tensors.values().size() + " tensors in '" + access + "'");
            return Poison.INSTANCE;
        }
        return tensors.values().get((int) i.value());
    }

    /** Evaluates a field initializer, where only constants and other fields are in scope. */
    Object evalMember(Expression expression) {
        return eval(expression, new Scope(null));
    }

    /** Returns the value of a compile-time integer expression, or {@code null}. */
    Long constantInt(Expression expression) {
        Object value = eval(expression, new Scope(null));
        return value instanceof IntValue i ? i.value() : null;
    }

    private Object name(NameExpr name, Scope scope) {
        String id = name.getNameAsString();
        if (scope.has(id)) {
            return scope.get(id);
        }
        Object field = member(id);
        if (field != null) {
            return field;
        }
        translator.error(DiagnosticIds.UNSUPPORTED, name, "'" + id + "' is not a local variable, a field of "
                + self.name() + " or a static final int constant");
        return Poison.INSTANCE;
    }

    /** Returns a field of this instance or a static int constant of its class, or {@code null}. */
    private Object member(String id) {
        if (self.fields.containsKey(id)) {
            return self.fields.get(id);
        }
        for (VariableDeclarator constant : ModelTranslator.staticConstants(self.declaration)) {
            if (constant.getNameAsString().equals(id) && constant.getInitializer().isPresent()) {
                Object value = eval(constant.getInitializer().get(), new Scope(null));
                self.fields.put(id, value);
                return value;
            }
        }
        return null;
    }

    private Object fieldAccess(FieldAccessExpr access, Scope scope) {
        if (access.getScope() instanceof ThisExpr) {
            Object field = member(access.getNameAsString());
            if (field != null) {
                return field;
            }
        }
        if (access.getScope() instanceof NameExpr owner && owner.getNameAsString().equals(self.name())) {
            Object field = member(access.getNameAsString());
            if (field != null) {
                return field;
            }
        }
        translator.error(DiagnosticIds.UNSUPPORTED, access, "'" + access + "' is not a field of " + self.name()
                + " or a static final int constant of it");
        return Poison.INSTANCE;
    }

    private Object binary(BinaryExpr.Operator operator, Object left, Object right, Node where) {
        if (left == Poison.INSTANCE || right == Poison.INSTANCE) {
            return Poison.INSTANCE;
        }
        if (left instanceof IntValue a && right instanceof IntValue b) {
            long x = a.value();
            long y = b.value();
            return switch (operator) {
                case PLUS -> new IntValue(x + y);
                case MINUS -> new IntValue(x - y);
                case MULTIPLY -> new IntValue(x * y);
                case DIVIDE, REMAINDER -> {
                    if (y == 0) {
                        translator.error(DiagnosticIds.UNSUPPORTED, where, "division by zero in constant '" + where + "'");
                        yield Poison.INSTANCE;
                    }
                    yield new IntValue(operator == BinaryExpr.Operator.DIVIDE ? x / y : x % y);
                }
                case LESS -> new BoolValue(x < y);
                case LESS_EQUALS -> new BoolValue(x <= y);
                case GREATER -> new BoolValue(x > y);
                case GREATER_EQUALS -> new BoolValue(x >= y);
                case EQUALS -> new BoolValue(x == y);
                case NOT_EQUALS -> new BoolValue(x != y);
                default -> unsupportedOperator(operator, where);
            };
        }
        if (left instanceof BoolValue a && right instanceof BoolValue b) {
            return switch (operator) {
                case AND -> new BoolValue(a.value() && b.value());
                case OR -> new BoolValue(a.value() || b.value());
                case EQUALS -> new BoolValue(a.value() == b.value());
                case NOT_EQUALS -> new BoolValue(a.value() != b.value());
                default -> unsupportedOperator(operator, where);
            };
        }
        if (left instanceof TensorValue || right instanceof TensorValue
                || left instanceof RuntimeScalar || right instanceof RuntimeScalar) {
            // Tensor comparisons reach here only from conditions, which the caller reports.
            return new TensorCondition();
        }
        return unsupportedOperator(operator, where);
    }

    /** A condition computed from tensor values: not a build-time constant. */
    private record TensorCondition() {
    }

    /** A number read out of a tensor, such as {@code x.item()}: known only at run time. */
    private record RuntimeScalar() {
    }

    private Object unsupportedOperator(BinaryExpr.Operator operator, Node where) {
        translator.error(DiagnosticIds.UNSUPPORTED, where, "operator '" + operator.asString() + "' in '" + where
                + "' is unsupported here; Kiln evaluates int and boolean constants at build time");
        return Poison.INSTANCE;
    }

    private Object unary(UnaryExpr unary, Scope scope) {
        Object value = eval(unary.getExpression(), scope);
        if (value == Poison.INSTANCE) {
            return value;
        }
        return switch (unary.getOperator()) {
            case MINUS -> switch (value) {
                case IntValue i -> new IntValue(-i.value());
                case Values.DoubleValue d -> new Values.DoubleValue(-d.value());
                default -> unsupportedUnary(unary);
            };
            case PLUS -> value instanceof IntValue || value instanceof Values.DoubleValue ? value : unsupportedUnary(unary);
            case LOGICAL_COMPLEMENT -> value instanceof BoolValue b ? new BoolValue(!b.value()) : unsupportedUnary(unary);
            default -> unsupportedUnary(unary);
        };
    }

    private Object unsupportedUnary(UnaryExpr unary) {
        translator.error(DiagnosticIds.UNSUPPORTED, unary, "'" + unary + "' is unsupported; negate a tensor"
                + " with neg(x), and use unary operators only on number and boolean constants");
        return Poison.INSTANCE;
    }

    private Object conditional(ConditionalExpr conditional, Scope scope) {
        Object condition = eval(conditional.getCondition(), scope);
        if (condition instanceof BoolValue bool) {
            return eval(bool.value() ? conditional.getThenExpr() : conditional.getElseExpr(), scope);
        }
        if (condition != Poison.INSTANCE) {
            translator.error(DiagnosticIds.DATA_DEPENDENT_IF, conditional, "condition '" + conditional.getCondition()
                    + "' depends on tensor values, which are known only at run time; compute both sides with tensor ops");
        }
        return Poison.INSTANCE;
    }

    // ---- calls -----------------------------------------------------------------------------

    private Object call(MethodCallExpr call, Scope scope) {
        String method = call.getNameAsString();
        Optional<Expression> target = call.getScope();
        List<Object> args = call.getArguments().stream().map(a -> eval(a, scope)).toList();
        if (args.contains(Poison.INSTANCE)) {
            return Poison.INSTANCE;
        }
        Object receiver = null;
        if (target.isPresent() && !(target.get() instanceof ThisExpr) && !isOpsClass(target.get())) {
            receiver = eval(target.get(), scope);
            if (receiver == Poison.INSTANCE) {
                return receiver;
            }
        }
        graph().origin(ModelTranslator.origin(call));
        return switch (receiver) {
            case null -> callUnqualified(call, method, args, target.isPresent() && target.get() instanceof ThisExpr);
            case LinearLayer layer -> applyLinear(call, layer, method, args);
            case Values.SequentialLayer sequential -> applyLayer(call, sequential, method, args);
            case Values.ActivationLayer activation -> applyLayer(call, activation, method, args);
            case Layers.Layer layer -> Layers.apply(this, translator, call, layer, method, args);
            case ModuleInstance module -> callModule(call, module, method, args);
            case TensorValue tensor -> callTensorMethod(call, tensor, method, args);
            default -> unknownMethod(call, "'" + call.getScope().get() + "' is not a layer, a model or a tensor");
        };
    }

    private static boolean isOpsClass(Expression scope) {
        String text = scope.toString();
        return text.equals("Functional") || text.endsWith(".Functional");
    }

    private Object callUnqualified(MethodCallExpr call, String method, List<Object> args, boolean viaThis) {
        // Java picks a method of the class over a statically imported op of the same name.
        List<MethodDeclaration> helpers = self.declaration.getMethodsByName(method).stream()
                .filter(m -> m.getParameters().size() == args.size()).toList();
        if (!helpers.isEmpty()) {
            return call(helpers.get(0), args, call);
        }
        if (!viaThis) {
            Object op = Ops.apply(this, call, method, args);
            if (op != null) {
                return op;
            }
        }
        return unknownMethod(call, "'" + method + "' is neither a Kiln op nor a method of " + self.name());
    }

    private Object callModule(MethodCallExpr call, ModuleInstance module, String method, List<Object> args) {
        List<MethodDeclaration> methods = module.declaration.getMethodsByName(method).stream()
                .filter(m -> m.getParameters().size() == args.size()).toList();
        if (methods.isEmpty()) {
            return unknownMethod(call, "model class " + module.name() + " has no method " + method + " with "
                    + args.size() + " arguments");
        }
        return new Interpreter(translator, module).call(methods.get(0), args, call);
    }

    private Object callTensorMethod(MethodCallExpr call, TensorValue tensor, String method, List<Object> args) {
        if (List.of("add", "sub", "mul", "div").contains(method) && args.size() == 1) {
            return Ops.method(this, call, method, tensor, args.get(0));
        }
        if (method.equals("item") && args.isEmpty()) {
            return new RuntimeScalar();
        }
        if (List.of("reshape", "flatten", "permute", "transpose", "matmul", "sum", "mean", "amax", "amin",
                "logsumexp").contains(method)) {
            List<Object> all = new ArrayList<>();
            all.add(tensor);
            all.addAll(args);
            return Ops.apply(this, call, method, all);
        }
        return unknownMethod(call, "Tensor has no method '" + method + "' in the model language; use x.add(y),"
                + " x.sub(y), x.mul(y), x.div(y), x.reshape(...), x.flatten(), x.permute(...), x.transpose(a, b),"
                + " x.matmul(y), x.sum(axis), x.mean(axis) or the ops of dev.kiln.nn.Functional");
    }

    /**
     * Applies a Sequential (each child in order: a Linear layer, a parameter-free layer, a nested
     * model's {@code forward}, or another Sequential) or a parameter-free layer.
     */
    private Object applyLayer(MethodCallExpr call, Object layer, String method, List<Object> args) {
        if (!(method.equals("apply") || method.equals("forward")) || args.size() != 1
                || !(args.get(0) instanceof TensorValue)) {
            return unknownMethod(call, "a layer is used as 'layer.apply(x)' with one tensor");
        }
        Object x = args.get(0);
        switch (layer) {
            case Values.SequentialLayer sequential -> {
                for (Object child : sequential.children()) {
                    x = applyLayer(call, child, "apply", List.of(x));
                    if (x == Poison.INSTANCE) {
                        return x;
                    }
                }
                return x;
            }
            case Values.ActivationLayer activation -> {
                return Ops.apply(this, call, activation.op(), List.of(x));
            }
            case LinearLayer linear -> {
                return applyLinear(call, linear, "apply", List.of(x));
            }
            case Layers.Layer other -> {
                return Layers.apply(this, translator, call, other, "apply", List.of(x));
            }
            case ModuleInstance module -> {
                return callModule(call, module, "forward", List.of(x));
            }
            default -> {
                return unknownMethod(call, "'" + layer + "' is not a layer");
            }
        }
    }

    private Object applyLinear(MethodCallExpr call, LinearLayer layer, String method, List<Object> args) {
        if (!(method.equals("apply") || method.equals("forward")) || args.size() != 1
                || !(args.get(0) instanceof TensorValue input)) {
            return unknownMethod(call, "a Linear layer is used as 'layer.apply(x)' with one tensor");
        }
        dev.kiln.ir.Shape shape = input.node().shape();
        if (shape.rank() < 2 || shape.rank() > 3 || shape.last() != layer.in()) {
            translator.error(DiagnosticIds.SHAPE, call, "layer '" + layer.path() + "' is " + layer.describe()
                    + " and takes inputs of shape " + dev.kiln.ir.Shape.batched(layer.in()) + ", but '" + call.getArgument(0) + "' has shape "
                    + shape + "; make the layer's input width " + (shape.rank() == 2 ? shape.last() : "match")
                    + " or feed it a tensor of width " + layer.in() + " ([B, " + layer.in() + "] or [B, L, " + layer.in() + "])");
            return Poison.INSTANCE;
        }
        GraphBuilder g = graph();
        dev.kiln.ir.Node weight = g.param(layer.weightName(), dev.kiln.ir.Shape.of(layer.out(), layer.in()));
        dev.kiln.ir.Node out = g.matmul(input.node(), weight, false, true);
        if (layer.bias()) {
            out = g.add(out, g.param(layer.biasName(), dev.kiln.ir.Shape.of(layer.out())));
        }
        return new TensorValue(out);
    }

    private Object create(ObjectCreationExpr creation, Scope scope) {
        String type = creation.getType().getNameAsString();
        List<Object> args = creation.getArguments().stream().map(a -> eval(a, scope)).toList();
        if (args.contains(Poison.INSTANCE)) {
            return Poison.INSTANCE;
        }
        Object layer = Layers.create(translator, creation, type, args);
        if (layer != null) {
            return layer;
        }
        if (type.equals("Linear")) {
            if ((args.size() == 2 || args.size() == 3) && args.get(0) instanceof IntValue in && args.get(1) instanceof IntValue out
                    && (args.size() == 2 || args.get(2) instanceof Values.BoolValue)) {
                if (in.value() <= 0 || out.value() <= 0) {
                    translator.error(DiagnosticIds.FIELD, creation, "Linear needs positive widths, got '" + creation + "'");
                    return Poison.INSTANCE;
                }
                boolean bias = args.size() == 2 || ((BoolValue) args.get(2)).value();
                return new NewLinear(Math.toIntExact(in.value()), Math.toIntExact(out.value()), bias);
            }
            translator.error(DiagnosticIds.FIELD, creation, "'" + creation + "' needs compile-time constant arguments:"
                    + " new Linear(inFeatures, outFeatures) or new Linear(inFeatures, outFeatures, bias)");
            return Poison.INSTANCE;
        }
        if (ACTIVATIONS.containsKey(type)) {
            if (!args.isEmpty()) {
                translator.error(DiagnosticIds.FIELD, creation, type + " takes no arguments; write 'new " + type + "()'");
                return Poison.INSTANCE;
            }
            return new Values.ActivationLayer(type, ACTIVATIONS.get(type));
        }
        if (type.equals("Sequential")) {
            for (Object arg : args) {
                if (!(arg instanceof NewLinear || arg instanceof NewModule || arg instanceof NewSequential
                        || arg instanceof Values.ActivationLayer || arg instanceof Layers.NewLayer)) {
                    translator.error(DiagnosticIds.FIELD, creation, "the children of Sequential must be layers created in"
                            + " place, such as 'new Linear(13, 20)', 'new Tanh()' or a model class; got '" + arg + "'");
                    return Poison.INSTANCE;
                }
            }
            return new NewSequential(args);
        }
        Optional<ClassOrInterfaceDeclaration> nested = translator.resolver().find(type, self.declaration);
        if (nested.isPresent()) {
            for (Object arg : args) {
                if (!(arg instanceof IntValue || arg instanceof BoolValue)) {
                    translator.error(DiagnosticIds.FIELD, creation, "arguments of '" + creation
                            + "' must be int or boolean compile-time constants");
                    return Poison.INSTANCE;
                }
            }
            return new NewModule(nested.get(), args);
        }
        translator.error(DiagnosticIds.FIELD, creation, "cannot build '" + creation + "' at build time: " + type
                + " is neither a Kiln layer nor a model class whose source Kiln can read");
        return Poison.INSTANCE;
    }

    Object unknownMethod(MethodCallExpr call, String why) {
        translator.error(DiagnosticIds.UNKNOWN_METHOD, call, "unknown method in '" + call + "': " + why
                + ". Supported: " + Ops.NAMES + ", layer.apply(x), x.add(y), nested models' methods and this class's helper methods");
        return Poison.INSTANCE;
    }

    GraphBuilder graph() {
        return translator.graph();
    }

    void shapeError(MethodCallExpr call, ShapeException e) {
        translator.error(DiagnosticIds.SHAPE, call, "shapes do not fit in '" + call + "': " + e.getMessage());
    }
}
