package dev.kiln.ir.oracle;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One file of PyTorch reference results written by {@code tools/oracle/op_reference.py}: an op,
 * its variants (one per set of attributes), and for each variant the cases with operands,
 * cotangent, directions, value, VJPs and Hessian-vector products in float64.
 *
 * @param op the op's name in the oracle table, e.g. {@code pow_scalar}
 * @param family elementwise, layout, matmul, reduce, row or loss
 * @param note the file's remark on PyTorch's own approximations, or ""
 * @param variants the attribute sets with their cases
 */
public record OracleFixture(String op, String family, String note, List<Variant> variants) {

    /** Class path folder of the fixture files. */
    public static final String FOLDER = "oracle/";

    /** A set of attributes and the cases computed with them. */
    public record Variant(Map<String, Object> attributes, List<Case> cases, int skipped) {

        /** Returns a number attribute, failing with the op's name when it is missing. */
        public double number(String name) {
            Object value = attributes.get(name);
            if (!(value instanceof Double d)) {
                throw new IllegalArgumentException("fixture attribute '" + name + "' is missing or not a number: "
                        + attributes);
            }
            return d;
        }

        /** Returns an integer attribute such as an axis, failing when it is missing or has a fraction. */
        public int integer(String name) {
            double value = number(name);
            if (value != (int) value) {
                throw new IllegalArgumentException("fixture attribute '" + name + "' is not an integer: " + attributes);
            }
            return (int) value;
        }

        /** Returns a boolean attribute, failing when it is missing. */
        public boolean flag(String name) {
            Object value = attributes.get(name);
            if (!(value instanceof Boolean b)) {
                throw new IllegalArgumentException("fixture attribute '" + name + "' is missing or not a boolean: "
                        + attributes);
            }
            return b;
        }

        /** Returns a list-of-integers attribute such as a shape. */
        public int[] extents(String name) {
            Object value = attributes.get(name);
            if (!(value instanceof List<?> list)) {
                throw new IllegalArgumentException("fixture attribute '" + name + "' is missing or not a list: "
                        + attributes);
            }
            return list.stream().mapToInt(v -> ((Double) v).intValue()).toArray();
        }
    }

    /**
     * One evaluation point.
     *
     * @param label {@code random <n>} or {@code special}
     * @param operands the op's operands in order
     * @param cotangent w, the cotangent of the op's output
     * @param value op(operands)
     * @param directions v for each differentiable operand, by operand name
     * @param grads d/dx sum(w * op) for each differentiable operand
     * @param hvps d/dx sum_i sum(v_i * grads_i) for each differentiable operand
     */
    public record Case(String label, List<Operand> operands, Tensor cotangent, Tensor value,
                       Map<String, Tensor> directions, Map<String, Tensor> grads, Map<String, Tensor> hvps) {

        /**
         * Returns the batch size that the graph of this case is evaluated with: axis 0 of the first
         * operand marked batched, else axis 0 of operand 0, which is the batch of a loss.
         */
        public int batch() {
            Operand batched = operands.stream().filter(Operand::batched).findFirst().orElse(operands.getFirst());
            int[] shape = batched.tensor().shape();
            return shape.length == 0 ? 1 : shape[0];
        }

        /** Returns whether the case has VJPs and Hessian-vector products, not only the value. */
        public boolean hasDerivatives() {
            return !grads.isEmpty();
        }
    }

    /**
     * An operand: float (differentiated), probabilities (float, differentiated), constant and
     * condition (float, not differentiated) or index (int class indices). A batched operand's
     * axis 0 is the batch axis, whose extent the graph gets at call time.
     */
    public record Operand(String name, String kind, boolean batched, Tensor tensor) {
        public boolean differentiable() {
            return kind.equals("float") || kind.equals("probabilities");
        }

        public boolean isIndex() {
            return kind.equals("index");
        }
    }

    /** A row-major float64 tensor. */
    public record Tensor(int[] shape, double[] values) {
    }

    /** Returns the op names listed in {@code oracle/index.json}. */
    public static List<String> index() {
        List<String> names = new ArrayList<>();
        for (Object name : (List<?>) Json.parse(read("index.json"))) {
            names.add((String) name);
        }
        return names;
    }

    /** Reads {@code oracle/<op>.json} from the class path. */
    public static OracleFixture load(String op) {
        Map<?, ?> document = (Map<?, ?>) Json.parse(read(op + ".json"));
        List<Variant> variants = new ArrayList<>();
        for (Object v : (List<?>) document.get("variants")) {
            Map<?, ?> variant = (Map<?, ?>) v;
            List<Case> cases = new ArrayList<>();
            for (Object c : (List<?>) variant.get("cases")) {
                cases.add(parseCase((Map<?, ?>) c));
            }
            Map<String, Object> attributes = new LinkedHashMap<>();
            ((Map<?, ?>) variant.get("attributes")).forEach((k, value) -> attributes.put((String) k, value));
            variants.add(new Variant(attributes, cases, ((List<?>) variant.get("skipped")).size()));
        }
        Object note = document.get("note");
        return new OracleFixture((String) document.get("op"), (String) document.get("family"),
                note == null ? "" : (String) note, variants);
    }

    private static Case parseCase(Map<?, ?> c) {
        List<Operand> operands = new ArrayList<>();
        for (Object o : (List<?>) c.get("operands")) {
            Map<?, ?> operand = (Map<?, ?>) o;
            operands.add(new Operand((String) operand.get("name"), (String) operand.get("kind"),
                    Boolean.TRUE.equals(operand.get("batched")), tensor(operand)));
        }
        return new Case((String) c.get("label"), operands, tensor((Map<?, ?>) c.get("cotangent")),
                tensor((Map<?, ?>) c.get("value")), tensors(c.get("direction")), tensors(c.get("grad")),
                tensors(c.get("hvp")));
    }

    private static Map<String, Tensor> tensors(Object object) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        ((Map<?, ?>) object).forEach((name, t) -> out.put((String) name, tensor((Map<?, ?>) t)));
        return out;
    }

    private static Tensor tensor(Map<?, ?> t) {
        int[] shape = ((List<?>) t.get("shape")).stream().mapToInt(d -> ((Double) d).intValue()).toArray();
        double[] values = ((List<?>) t.get("values")).stream().mapToDouble(v -> (Double) v).toArray();
        return new Tensor(shape, values);
    }

    private static String read(String file) {
        String path = FOLDER + file;
        try (InputStream in = OracleFixture.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("fixture " + path + " is not on the class path;"
                        + " run /usr/bin/python3 tools/oracle/op_reference.py to write it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fixture " + path, e);
        }
    }
}
