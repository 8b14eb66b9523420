package dev.kiln.frontend;

import com.github.javaparser.ast.Node;
import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import com.github.javaparser.ast.body.ConstructorDeclaration;
import com.github.javaparser.ast.body.FieldDeclaration;
import com.github.javaparser.ast.body.VariableDeclarator;
import com.github.javaparser.ast.expr.AssignExpr;
import com.github.javaparser.ast.expr.FieldAccessExpr;
import com.github.javaparser.ast.expr.NameExpr;
import com.github.javaparser.ast.expr.ThisExpr;
import com.github.javaparser.ast.stmt.ExplicitConstructorInvocationStmt;
import com.github.javaparser.ast.stmt.ExpressionStmt;
import com.github.javaparser.ast.stmt.Statement;
import dev.kiln.frontend.Values.LinearLayer;
import dev.kiln.frontend.Values.ModuleInstance;
import java.util.List;
import java.util.Optional;

/**
 * Builds the fields of a model instance at build time: runs field initializers and the
 * constructor over compile-time constants, turning {@code new Linear(...)} into layers with
 * parameter names and nested model classes into nested instances.
 */
final class Instantiator {
    private final ModelTranslator translator;
    private int depth;

    Instantiator(ModelTranslator translator) {
        this.translator = translator;
    }

    /** Fills {@code instance.fields} by running initializers and the constructor taking {@code args}. */
    void instantiate(ModuleInstance instance, List<Object> args, Node site) {
        if (++depth > 32) {
            translator.error(DiagnosticIds.RECURSION, site, "model classes nest more than 32 levels deep;"
                    + " a model class probably contains itself");
            depth--;
            return;
        }
        ClassOrInterfaceDeclaration type = instance.declaration;
        Interpreter interpreter = new Interpreter(translator, instance);
        for (FieldDeclaration field : type.getFields()) {
            if (field.isStatic()) {
                continue;
            }
            for (VariableDeclarator variable : field.getVariables()) {
                if (!field.isFinal() && isLayerType(variable)) {
                    translator.error(DiagnosticIds.FIELD, variable, "layer field '" + variable.getNameAsString()
                            + "' must be final; declare it 'final " + variable.getTypeAsString() + " "
                            + variable.getNameAsString() + "'");
                }
                variable.getInitializer().ifPresent(init ->
                        assign(instance, variable.getNameAsString(), interpreter.evalMember(init), variable));
            }
        }
        Optional<ConstructorDeclaration> constructor = ModelTranslator.constructor(type, args.size());
        if (constructor.isEmpty()) {
            if (!args.isEmpty()) {
                translator.error(DiagnosticIds.FIELD, site, "class " + type.getNameAsString() + " has no constructor taking "
                        + args.size() + " arguments");
            }
        } else {
            runConstructor(instance, constructor.get(), args, interpreter);
        }
        depth--;
    }

    private static boolean isLayerType(VariableDeclarator variable) {
        String type = variable.getTypeAsString();
        return !type.equals("int") && !type.equals("long") && !type.equals("boolean");
    }

    private void runConstructor(ModuleInstance instance, ConstructorDeclaration constructor, List<Object> args,
                                Interpreter interpreter) {
        Interpreter.Scope scope = new Interpreter.Scope(null);
        for (int i = 0; i < args.size(); i++) {
            scope.define(constructor.getParameter(i).getNameAsString(), args.get(i));
        }
        for (Statement statement : constructor.getBody().getStatements()) {
            if (statement instanceof ExplicitConstructorInvocationStmt call && !call.isThis() && call.getArguments().isEmpty()) {
                continue;
            }
            if (statement instanceof ExpressionStmt expression && expression.getExpression() instanceof AssignExpr assign
                    && assign.getOperator() == AssignExpr.Operator.ASSIGN) {
                String field = fieldName(assign, scope);
                if (field != null) {
                    assign(instance, field, interpreter.eval(assign.getValue(), scope), assign);
                    continue;
                }
            }
            if (statement instanceof ExpressionStmt expression
                    && expression.getExpression().isVariableDeclarationExpr()) {
                interpreter.exec(statement, scope);
                continue;
            }
            translator.error(DiagnosticIds.FIELD, statement, "Kiln evaluates constructors at build time and supports"
                    + " only field assignments such as 'this.fc = new Linear(n, 20);' and local constants here,"
                    + " not '" + firstLine(statement) + "'");
        }
    }

    private static String fieldName(AssignExpr assign, Interpreter.Scope scope) {
        if (assign.getTarget() instanceof FieldAccessExpr access && access.getScope() instanceof ThisExpr) {
            return access.getNameAsString();
        }
        if (assign.getTarget() instanceof NameExpr name && !scope.has(name.getNameAsString())) {
            return name.getNameAsString();
        }
        return null;
    }

    private void assign(ModuleInstance instance, String field, Object value, Node where) {
        instance.fields.put(field, bind(instance.prefix + field, value, where));
    }

    /** Binds a newly created layer to its parameter path; children of a Sequential are named by index. */
    private Object bind(String path, Object value, Node where) {
        return switch (value) {
            case Interpreter.NewLinear linear -> {
                LinearLayer layer = new LinearLayer(path, linear.in(), linear.out(), linear.bias());
                translator.registerLinear(layer, where);
                yield layer;
            }
            case Layers.NewLayer layer -> Layers.register(translator, path, layer, where);
            case Interpreter.NewModule module -> {
                ModuleInstance nested = new ModuleInstance(module.declaration(), path + ".");
                instantiate(nested, module.args(), where);
                yield nested;
            }
            case Interpreter.NewSequential sequential -> {
                List<Object> children = new java.util.ArrayList<>();
                for (int i = 0; i < sequential.children().size(); i++) {
                    children.add(bind(path + "." + i, sequential.children().get(i), where));
                }
                yield new Values.SequentialLayer(path, List.copyOf(children));
            }
            default -> value;
        };
    }

    static String firstLine(Node node) {
        String text = node.toString().strip();
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline) + " ...";
    }
}
