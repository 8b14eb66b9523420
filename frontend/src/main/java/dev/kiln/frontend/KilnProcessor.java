package dev.kiln.frontend;

import com.github.javaparser.JavaParser;
import com.github.javaparser.ParseResult;
import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.ImportDeclaration;
import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import com.github.javaparser.ast.body.MethodDeclaration;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.LineMap;
import com.sun.source.tree.Tree;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreePath;
import com.sun.source.util.TreePathScanner;
import com.sun.source.util.Trees;
import dev.kiln.codegen.c.ModelCompiler;
import dev.kiln.codegen.opencl.OpenClEmitter;
import dev.kiln.codegen.opencl.OpenClProgram;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.lower.Schedule;
import java.io.IOException;
import java.io.Writer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.RoundEnvironment;
import javax.annotation.processing.SupportedOptions;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.PackageElement;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic.Kind;
import javax.tools.FileObject;
import javax.tools.StandardLocation;

/**
 * The Kiln annotation processor. For every class annotated {@code @Model} it reads the class's
 * source with JavaParser, translates it to IR, compiles the IR to C and writes, through the Filer:
 * the C source to {@code META-INF/kiln/src/<library>.c} (which the Kiln Maven plugin compiles into
 * a shared library), the OpenCL program and its launch list to {@code META-INF/kiln/opencl/}, and
 * the class {@code Compiled<Name>} next to the model.
 *
 * <p>Options: {@code -Akiln.verifyIr=true} checks the IR after every pass; {@code -Akiln.dumpIr=true}
 * writes the IR of every stage to {@code META-INF/kiln/ir/<library>.txt}.
 */
@SupportedOptions({KilnProcessor.VERIFY_OPTION, KilnProcessor.DUMP_OPTION})
public final class KilnProcessor extends AbstractProcessor {
    static final String VERIFY_OPTION = "kiln.verifyIr";
    static final String DUMP_OPTION = "kiln.dumpIr";
    static final String MODEL_ANNOTATION = "dev.kiln.nn.Model";
    static final String DIFFERENTIABLE_ANNOTATION = "dev.kiln.nn.Differentiable";
    static final int MAX_ORDER = 8;

    private final Map<String, CompilationUnit> parsed = new HashMap<>();

    @Override
    public Set<String> getSupportedAnnotationTypes() {
        return Set.of(MODEL_ANNOTATION, DIFFERENTIABLE_ANNOTATION);
    }

    @Override
    public SourceVersion getSupportedSourceVersion() {
        return SourceVersion.latestSupported();
    }

    @Override
    public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
        TypeElement differentiable = processingEnv.getElementUtils().getTypeElement(DIFFERENTIABLE_ANNOTATION);
        if (differentiable != null) {
            for (Element element : round.getElementsAnnotatedWith(differentiable)) {
                try {
                    processFunction((ExecutableElement) element);
                } catch (RuntimeException e) {
                    processingEnv.getMessager().printMessage(Kind.ERROR, "[KILN000] internal error while compiling"
                            + " function " + element.getSimpleName() + ": " + e + ". This is a bug in Kiln;"
                            + " please report it with the class", element);
                }
            }
        }
        TypeElement annotation = processingEnv.getElementUtils().getTypeElement(MODEL_ANNOTATION);
        if (annotation == null) {
            return false;
        }
        for (Element element : round.getElementsAnnotatedWith(annotation)) {
            if (element.getKind() != ElementKind.CLASS) {
                processingEnv.getMessager().printMessage(Kind.ERROR, "[" + DiagnosticIds.MODEL_STRUCTURE
                        + "] @Model applies to classes only", element);
                continue;
            }
            try {
                processModel((TypeElement) element);
            } catch (RuntimeException e) {
                processingEnv.getMessager().printMessage(Kind.ERROR, "[KILN000] internal error while compiling model "
                        + ((TypeElement) element).getQualifiedName() + ": " + e + ". This is a bug in Kiln;"
                        + " please report it with the model class", element);
            }
        }
        return true;
    }

    private void processModel(TypeElement element) {
        Trees trees = Trees.instance(processingEnv);
        TreePath path = trees.getPath(element);
        if (path == null) {
            error(element, DiagnosticIds.SOURCE, "the source of " + element.getQualifiedName()
                    + " is not available; Kiln compiles model classes from source");
            return;
        }
        CompilationUnitTree javacUnit = path.getCompilationUnit();
        Optional<ClassOrInterfaceDeclaration> declaration = parse(javacUnit)
                .flatMap(cu -> findClass(cu, element.getQualifiedName().toString()));
        if (declaration.isEmpty()) {
            error(element, DiagnosticIds.SOURCE, "Kiln could not parse the source of " + element.getQualifiedName());
            return;
        }
        ModelTranslator translator = new ModelTranslator(this::resolve);
        ModelTranslator.Result result = translator.translate(declaration.get());
        for (Diagnostic diagnostic : result.diagnostics()) {
            report(trees, javacUnit, element, diagnostic);
        }
        if (result.model().isEmpty()) {
            return;
        }
        emit(element, result.model().get(), translator.packing());
    }

    /** Compiles a {@code @Differentiable} method with its derivatives. */
    private void processFunction(ExecutableElement method) {
        TypeElement owner = (TypeElement) method.getEnclosingElement();
        Trees trees = Trees.instance(processingEnv);
        TreePath path = trees.getPath(owner);
        if (path == null) {
            error(method, DiagnosticIds.SOURCE, "the source of " + owner.getQualifiedName() + " is not available");
            return;
        }
        CompilationUnitTree javacUnit = path.getCompilationUnit();
        Optional<ClassOrInterfaceDeclaration> declaration = parse(javacUnit)
                .flatMap(cu -> findClass(cu, owner.getQualifiedName().toString()));
        Optional<MethodDeclaration> source = declaration.flatMap(d -> d.getMethodsByName(method.getSimpleName().toString())
                .stream().filter(m -> m.getParameters().size() == method.getParameters().size()).findFirst());
        if (source.isEmpty()) {
            error(method, DiagnosticIds.SOURCE, "Kiln could not parse the source of " + method.getSimpleName());
            return;
        }
        int order = 1;
        for (AnnotationMirror mirror : method.getAnnotationMirrors()) {
            if (mirror.getAnnotationType().toString().equals(DIFFERENTIABLE_ANNOTATION)) {
                for (var value : mirror.getElementValues().entrySet()) {
                    if (value.getKey().getSimpleName().contentEquals("order")) {
                        order = (Integer) value.getValue().getValue();
                    }
                }
            }
        }
        if (order < 0 || order > MAX_ORDER) {
            error(method, DiagnosticIds.MODEL_STRUCTURE, "@Differentiable(order = " + order + ") is out of range;"
                    + " compile derivatives of order 0 to " + MAX_ORDER);
            return;
        }
        ModelTranslator.FunctionResult result = new ModelTranslator(this::resolve)
                .translateFunction(declaration.get(), source.get());
        for (Diagnostic diagnostic : result.diagnostics()) {
            report(trees, javacUnit, method, diagnostic);
        }
        if (result.function().isEmpty()) {
            return;
        }
        String methodName = method.getSimpleName().toString();
        String qualifiedName = owner.getQualifiedName() + "." + methodName;
        String libraryName = qualifiedName.replace('.', '_').replace('$', '_');
        boolean verify = Boolean.parseBoolean(processingEnv.getOptions().getOrDefault(VERIFY_OPTION, "false"));
        ModelCompiler.Result compiled = ModelCompiler.compileFunction(result.function().get(), order, libraryName,
                verify, false);
        String packageName = packageOf(owner);
        String className = "Compiled" + owner.getSimpleName() + Character.toUpperCase(methodName.charAt(0))
                + methodName.substring(1);
        String javaSource = JavaClassWriter.writeFunction(packageName, className, qualifiedName, libraryName,
                compiled.signature(), result.function().get(), order);
        try {
            writeResource(owner, "META-INF/kiln/src/" + libraryName + ".c", compiled.cSource());
            String generatedName = packageName.isEmpty() ? className : packageName + "." + className;
            try (Writer writer = processingEnv.getFiler().createSourceFile(generatedName, owner).openWriter()) {
                writer.write(javaSource);
            }
        } catch (IOException e) {
            error(method, "KILN000", "cannot write the generated files of " + qualifiedName + ": " + e.getMessage());
        }
    }

    private void emit(TypeElement element, ModelSpec model, ModelTranslator.Packing packing) {
        String qualifiedName = element.getQualifiedName().toString();
        String libraryName = qualifiedName.replace('.', '_').replace('$', '_');
        boolean verify = Boolean.parseBoolean(processingEnv.getOptions().getOrDefault(VERIFY_OPTION, "false"));
        boolean dump = Boolean.parseBoolean(processingEnv.getOptions().getOrDefault(DUMP_OPTION, "false"));
        ModelCompiler.Result compiled = ModelCompiler.compile(model, libraryName, verify, dump);
        StringBuilder plan = new StringBuilder("Kiln compiled " + qualifiedName + " (" + model.parameterCount()
                + " parameters); peak workspace per entry in floats:");
        for (Schedule schedule : compiled.schedules()) {
            plan.append(' ').append(schedule.entry().name()).append(' ').append(schedule.workspacePerRow())
                    .append("*B+").append(schedule.workspaceFixed());
        }
        processingEnv.getMessager().printMessage(Kind.NOTE, plan);
        String packageName = packageOf(element);
        String className = "Compiled" + element.getSimpleName();
        String javaSource = JavaClassWriter.write(packageName, className, qualifiedName, libraryName,
                compiled.signature(), model, packing);
        try {
            writeResource(element, "META-INF/kiln/src/" + libraryName + ".c", compiled.cSource());
            OpenClProgram openCl = OpenClEmitter.emit(libraryName, compiled.schedules());
            writeResource(element, "META-INF/kiln/opencl/" + libraryName + ".cl", openCl.source());
            writeResource(element, "META-INF/kiln/opencl/" + libraryName + ".launches", openCl.launchList());
            if (dump) {
                StringBuilder text = new StringBuilder();
                text.append("// forward graph of ").append(qualifiedName).append('\n').append(model.forward()).append('\n');
                compiled.dumps().forEach((stage, ir) -> text.append("// after ").append(stage).append('\n').append(ir).append('\n'));
                writeResource(element, "META-INF/kiln/ir/" + libraryName + ".txt", text.toString());
            }
            String generatedName = packageName.isEmpty() ? className : packageName + "." + className;
            try (Writer writer = processingEnv.getFiler().createSourceFile(generatedName, element).openWriter()) {
                writer.write(javaSource);
            }
        } catch (IOException e) {
            error(element, "KILN000", "cannot write the generated files of " + qualifiedName + ": " + e.getMessage());
        }
    }

    private void writeResource(Element element, String name, String text) throws IOException {
        FileObject file = processingEnv.getFiler().createResource(StandardLocation.CLASS_OUTPUT, "", name, element);
        try (Writer writer = file.openWriter()) {
            writer.write(text);
        }
    }

    private String packageOf(TypeElement element) {
        PackageElement pkg = processingEnv.getElementUtils().getPackageOf(element);
        return pkg.isUnnamed() ? "" : pkg.getQualifiedName().toString();
    }

    // ---- sources ---------------------------------------------------------------------------

    private Optional<CompilationUnit> parse(CompilationUnitTree unit) {
        String key = unit.getSourceFile().toUri().toString();
        CompilationUnit cached = parsed.get(key);
        if (cached != null) {
            return Optional.of(cached);
        }
        try {
            String source = unit.getSourceFile().getCharContent(true).toString();
            ParseResult<CompilationUnit> result = new JavaParser(new ParserConfiguration()
                    .setLanguageLevel(ParserConfiguration.LanguageLevel.JAVA_25)).parse(source);
            if (result.getResult().isEmpty() || !result.isSuccessful()) {
                return Optional.empty();
            }
            parsed.put(key, result.getResult().get());
            return result.getResult();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<ClassOrInterfaceDeclaration> findClass(CompilationUnit cu, String qualifiedName) {
        return cu.findAll(ClassOrInterfaceDeclaration.class).stream()
                .filter(c -> c.getFullyQualifiedName().map(n -> n.equals(qualifiedName)).orElse(false))
                .findFirst();
    }

    /** Finds a class by simple name: in the same file, then through imports, then in the same package. */
    private Optional<ClassOrInterfaceDeclaration> resolve(String simpleName, ClassOrInterfaceDeclaration context) {
        Optional<CompilationUnit> unit = context.findCompilationUnit();
        if (unit.isEmpty()) {
            return Optional.empty();
        }
        Optional<ClassOrInterfaceDeclaration> local = unit.get().findAll(ClassOrInterfaceDeclaration.class).stream()
                .filter(c -> c.getNameAsString().equals(simpleName)).findFirst();
        if (local.isPresent()) {
            return local;
        }
        String pkg = unit.get().getPackageDeclaration().map(p -> p.getNameAsString() + ".").orElse("");
        List<String> candidates = new java.util.ArrayList<>();
        for (ImportDeclaration imported : unit.get().getImports()) {
            if (!imported.isStatic() && !imported.isAsterisk() && imported.getName().getIdentifier().equals(simpleName)) {
                candidates.add(imported.getNameAsString());
            }
        }
        candidates.add(pkg + simpleName);
        Trees trees = Trees.instance(processingEnv);
        for (String candidate : candidates) {
            TypeElement type = processingEnv.getElementUtils().getTypeElement(candidate);
            if (type == null || trees.getPath(type) == null) {
                continue;
            }
            Optional<ClassOrInterfaceDeclaration> found = parse(trees.getPath(type).getCompilationUnit())
                    .flatMap(cu -> findClass(cu, candidate));
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    // ---- diagnostics -----------------------------------------------------------------------

    private void error(Element element, String id, String message) {
        processingEnv.getMessager().printMessage(Kind.ERROR, "[" + id + "] " + message, element);
    }

    /** Reports a diagnostic on the javac tree that starts at its line and column. */
    private void report(Trees trees, CompilationUnitTree unit, Element element, Diagnostic diagnostic) {
        Tree tree = diagnostic.line() > 0 ? findTree(trees, unit, diagnostic.line(), diagnostic.column()) : null;
        if (tree == null) {
            processingEnv.getMessager().printMessage(Kind.ERROR, diagnostic.text()
                    + (diagnostic.line() > 0 ? " (line " + diagnostic.line() + ")" : ""), element);
            return;
        }
        trees.printMessage(Kind.ERROR, diagnostic.text(), tree, unit);
    }

    private static Tree findTree(Trees trees, CompilationUnitTree unit, int line, int column) {
        SourcePositions positions = trees.getSourcePositions();
        LineMap lines = unit.getLineMap();
        Tree[] exact = new Tree[1];
        Tree[] onLine = new Tree[1];
        new TreePathScanner<Void, Void>() {
            @Override
            public Void scan(Tree tree, Void unused) {
                if (tree == null || exact[0] != null) {
                    return null;
                }
                long start = positions.getStartPosition(unit, tree);
                if (start >= 0 && lines.getLineNumber(start) == line) {
                    long rawColumn = start - lines.getStartPosition(line) + 1;
                    if (rawColumn == column) {
                        exact[0] = tree;
                        return null;
                    }
                    if (onLine[0] == null) {
                        onLine[0] = tree;
                    }
                }
                return super.scan(tree, unused);
            }
        }.scan(unit, null);
        return exact[0] != null ? exact[0] : onLine[0];
    }
}
