package dev.berth.runtime.onnx;

import dev.berth.registry.DataType;
import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceException;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.berth.runtime.onnx.OnnxModel.BOOL;
import static dev.berth.runtime.onnx.OnnxModel.FLOAT;
import static dev.berth.runtime.onnx.OnnxModel.INT32;
import static dev.berth.runtime.onnx.OnnxModel.INT64;
import static dev.berth.runtime.onnx.OnnxModel.STRING;
import static dev.berth.runtime.onnx.OnnxModel.graph;
import static dev.berth.runtime.onnx.OnnxModel.graphAttr;
import static dev.berth.runtime.onnx.OnnxModel.intAttr;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests whose values reach ONNX Runtime's native kernels in ways that trap or fail, each sent
 * through the real core in this JVM: a SIGFPE or SIGSEGV here would kill the test run, so a test
 * that finishes proves the process survived. Each failure must be a 400 (InvalidInput) that names
 * the model and the cause, and the request after it must be answered. docs/native-safety.md
 * lists the same cases.
 */
class NativeSafetyTest {
    @TempDir
    static Path root;
    static OnnxInferenceService service;

    @BeforeAll
    static void start() throws Exception {
        binary("div_int32", "Div", INT32);
        binary("div_int64", "Div", INT64);
        binary("mod_int32", "Mod", INT32);
        binary("mod_int64", "Mod", INT64);
        binary("div_float", "Div", FLOAT);
        // the divisor is computed inside the graph (y - 1): its type is only known to ONNX Runtime
        write("div_computed", OnnxModel.model(21, graph("g").input("x", INT32, "N").input("y", INT32, "N")
                .initializer("one", INT32, new long[0], 1)
                .node("Sub", List.of("y", "one"), List.of("y1"))
                .node("Div", List.of("x", "y1"), List.of("z"))
                .output("z", INT32, "N")));
        // warm-up with ones would divide by y - 1 = 0 (WarmupTest shows that); the registered example can run
        Files.writeString(root.resolve("div_computed/1").resolve(ExampleRequest.FILE), """
                {"inputs": [{"name": "x", "datatype": "INT32", "shape": [1], "data": [4]},
                            {"name": "y", "datatype": "INT32", "shape": [1], "data": [3]}]}""");
        // the division inside an If branch, operands from the outer graph
        write("div_in_if", OnnxModel.model(21, graph("g").input("c", BOOL).input("x", INT32, "N").input("y", INT32, "N")
                .node("If", List.of("c"), List.of("z"),
                        graphAttr("then_branch", graph("then").node("Div", List.of("x", "y"), List.of("t")).output("t", INT32, "N")),
                        graphAttr("else_branch", graph("else").node("Identity", List.of("x"), List.of("e")).output("e", INT32, "N")))
                .output("z", INT32, "N")));
        write("gather", OnnxModel.model(21, graph("g").input("i", INT64, "N")
                .initializer("d", INT64, new long[] {3}, 10, 20, 30)
                .node("Gather", List.of("d", "i"), List.of("z"), intAttr("axis", 0))
                .output("z", INT64, "N")));
        write("reshape", OnnxModel.model(21, graph("g").input("x", FLOAT, "N").input("s", INT64, "R")
                .node("Reshape", List.of("x", "s"), List.of("z")).untypedOutput("z")));
        write("expand", OnnxModel.model(21, graph("g").input("x", FLOAT, 1L).input("s", INT64, "R")
                .node("Expand", List.of("x", "s"), List.of("z")).untypedOutput("z")));
        write("trilu", OnnxModel.model(21, graph("g").input("x", FLOAT, 2L, 2L).input("k", INT64)
                .node("Trilu", List.of("x", "k"), List.of("z")).output("z", FLOAT, 2L, 2L)));
        write("stft", OnnxModel.model(17, graph("g").input("x", FLOAT, 1L, 16L, 1L).input("step", INT64).input("length", INT64)
                .node("STFT", List.of("x", "step", "", "length"), List.of("z")).untypedOutput("z")));
        write("dft_empty_axis", OnnxModel.model(20, graph("g").input("x", FLOAT, 1L, 4L, 1L).input("n", INT64, 1L)
                .node("DFT", List.of("x", "n", ""), List.of("z")).untypedOutput("z")));
        write("strings", OnnxModel.model(21, graph("g").input("a", STRING, "N").input("b", STRING, "N")
                .node("Equal", List.of("a", "b"), List.of("z")).output("z", BOOL, "N")));
        write("matmul", OnnxModel.model(21, graph("g").input("x", FLOAT, "N", 2L).input("w", FLOAT, 2L, 2L)
                .node("MatMul", List.of("x", "w"), List.of("z")).output("z", FLOAT, "N", 2L)));
        service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(java.time.Duration.ZERO));
        assertTrue(service.ready());
        for (var status : service.repositoryIndex()) {
            assertEquals(dev.berth.runtime.ModelState.READY, status.state(), status.name() + ": " + status.reason());
        }
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
    }

    private static void binary(String name, String op, int type) throws Exception {
        write(name, OnnxModel.model(21, graph("g").input("x", type, "N").input("y", type, "M")
                .node(op, List.of("x", "y"), List.of("z")).output("z", type, "K")));
    }

    static void write(String name, byte[] model) throws Exception {
        Path dir = root.resolve(name).resolve("1");
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.onnx"), model);
    }

    static Tensor ints(String name, DataType type, long... values) {
        return ints(name, type, new long[] {values.length}, values);
    }

    static Tensor ints(String name, DataType type, long[] shape, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (type) {
                case INT32 -> b.putInt((int) v);
                case INT64 -> b.putLong(v);
                case BOOL -> b.put((byte) v);
                case FP32 -> b.putFloat(v);
                default -> throw new IllegalArgumentException(type.name());
            }
        }
        return Tensor.ofRaw(name, type, shape, b.flip());
    }

    static Tensor strings(String name, String... values) {
        List<byte[]> elements = new ArrayList<>();
        for (String v : values) {
            elements.add(v.getBytes(StandardCharsets.UTF_8));
        }
        return Tensor.ofBytes(name, new long[] {values.length}, elements);
    }

    static InferenceResponse infer(String model, Tensor... inputs) {
        return infer(service, model, inputs);
    }

    static InferenceResponse infer(OnnxInferenceService core, String model, Tensor... inputs) {
        return core.infer(new InferenceRequest(model, null, null, List.of(inputs), List.of(), Map.of()));
    }

    static long[] values(Tensor t) {
        ByteBuffer b = t.data().order(ByteOrder.LITTLE_ENDIAN);
        int width = t.datatype().byteSize();
        long[] out = new long[b.remaining() / width];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (width) {
                case 1 -> b.get(b.position() + i);
                case 4 -> t.datatype() == DataType.FP32 ? (long) b.getFloat(b.position() + 4 * i) : b.getInt(b.position() + 4 * i);
                default -> b.getLong(b.position() + 8 * i);
            };
        }
        return out;
    }

    /** The request fails with a 400 whose message names the model and holds every fragment; the next request works. */
    static void refused(String model, Runnable request, Runnable next, String... fragments) {
        var e = assertThrows(InferenceException.InvalidInput.class, request::run);
        assertTrue(e.getMessage().contains("model '" + model + "' version 1"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
        }
        assertTrue(e.getMessage().length() < 300, "one readable line: " + e.getMessage());
        next.run();
    }

    @Test
    void integerDivisionByZeroIsAClientErrorAndTheNextRequestIsAnswered() {
        for (String model : List.of("div_int32", "div_int64")) {
            DataType t = model.endsWith("32") ? DataType.INT32 : DataType.INT64;
            refused(model, () -> infer(model, ints("x", t, 7, 8), ints("y", t, 1, 0)),
                    () -> assertArrayEquals(new long[] {3, -4}, values(infer(model, ints("x", t, 7, 8), ints("y", t, 2, -2)).outputs().get(0))),
                    "Div node", "Integer division by zero");
            // a broadcast scalar divisor takes another path through the kernel
            refused(model, () -> infer(model, ints("x", t, 7, 8), ints("y", t, new long[] {1}, 0)),
                    () -> infer(model, ints("x", t, 7), ints("y", t, 7)), "Integer division by zero");
        }
    }

    @Test
    void minimumDividedByMinusOneFailsTheRunInsteadOfKillingTheProcess() {
        refused("div_int32", () -> infer("div_int32", ints("x", DataType.INT32, 7, Integer.MIN_VALUE), ints("y", DataType.INT32, 1, -1)),
                () -> assertArrayEquals(new long[] {-7, Integer.MIN_VALUE}, values(infer("div_int32",
                        ints("x", DataType.INT32, 7, Integer.MIN_VALUE), ints("y", DataType.INT32, -1, 1)).outputs().get(0))),
                "integer overflow", "-2147483648 / -1 does not fit in int32");
        refused("div_int64", () -> infer("div_int64", ints("x", DataType.INT64, Long.MIN_VALUE, Long.MIN_VALUE), ints("y", DataType.INT64, new long[] {1}, -1)),
                () -> infer("div_int64", ints("x", DataType.INT64, Long.MIN_VALUE), ints("y", DataType.INT64, 2)),
                "-9223372036854775808 / -1 does not fit in int64");
        // -1 and MIN in different positions of a broadcast are fine
        assertArrayEquals(new long[] {5, Integer.MIN_VALUE / 2}, values(infer("div_int32",
                ints("x", DataType.INT32, -5, Integer.MIN_VALUE), ints("y", DataType.INT32, -1, 2)).outputs().get(0)));
        refused("div_computed", () -> infer("div_computed", ints("x", DataType.INT32, Integer.MIN_VALUE), ints("y", DataType.INT32, 0)),
                () -> assertArrayEquals(new long[] {-3}, values(infer("div_computed", ints("x", DataType.INT32, 6), ints("y", DataType.INT32, -1)).outputs().get(0))),
                "integer overflow");
        refused("div_in_if", () -> infer("div_in_if", ints("c", DataType.BOOL, new long[0], 1), ints("x", DataType.INT32, Integer.MIN_VALUE),
                        ints("y", DataType.INT32, -1)),
                () -> infer("div_in_if", ints("c", DataType.BOOL, new long[0], 1), ints("x", DataType.INT32, 9), ints("y", DataType.INT32, 3)),
                "integer overflow");
    }

    @Test
    void remaindersByMinusOneAreZeroAndByZeroAClientError() {
        assertArrayEquals(new long[] {0, 0, 1}, values(infer("mod_int32", ints("x", DataType.INT32, Integer.MIN_VALUE, 7, 7),
                ints("y", DataType.INT32, -1, -1, 3)).outputs().get(0)));
        assertArrayEquals(new long[] {0, -1}, values(infer("mod_int64", ints("x", DataType.INT64, Long.MIN_VALUE, 7),
                ints("y", DataType.INT64, -1, -4)).outputs().get(0)), "Python's sign rule for fmod=0 is kept");
        refused("mod_int64", () -> infer("mod_int64", ints("x", DataType.INT64, 1), ints("y", DataType.INT64, 0)),
                () -> infer("mod_int64", ints("x", DataType.INT64, 1), ints("y", DataType.INT64, 1)), "Integer modulo by zero");
    }

    @Test
    void floatModelsAreNotRewritten() throws Exception {
        byte[] model = Files.readAllBytes(root.resolve("div_float/1/model.onnx"));
        ModelGuards.Result result = ModelGuards.apply(model, (probe, names) -> Map.of("x", FLOAT, "y", FLOAT));
        assertTrue(!result.changed(), "a float Div needs no guard: " + result.applied());
        Tensor out = infer("div_float", ints("x", DataType.FP32, 3), ints("y", DataType.FP32, 2)).outputs().get(0);
        assertEquals(1.5f, out.data().order(ByteOrder.LITTLE_ENDIAN).getFloat(out.data().position()));
    }

    @Test
    void indicesAndShapesOutOfRangeAreClientErrors() {
        Runnable ok = () -> assertArrayEquals(new long[] {30, 10}, values(infer("gather", ints("i", DataType.INT64, 2, -3)).outputs().get(0)));
        refused("gather", () -> infer("gather", ints("i", DataType.INT64, 3)), ok, "Gather node", "out of data bounds");
        refused("gather", () -> infer("gather", ints("i", DataType.INT64, Long.MIN_VALUE)), ok, "out of data bounds");
        Tensor eight = ints("x", DataType.FP32, 1, 2, 3, 4, 5, 6, 7, 8);
        Runnable reshaped = () -> assertArrayEquals(new long[] {2, 4}, infer("reshape", eight, ints("s", DataType.INT64, 2, -1)).outputs().get(0).shape());
        refused("reshape", () -> infer("reshape", eight, ints("s", DataType.INT64, 3, 5)), reshaped, "Reshape node", "cannot be reshaped");
        refused("reshape", () -> infer("reshape", eight, ints("s", DataType.INT64, -2, 4)), reshaped, "cannot be less than -1");
        refused("reshape", () -> infer("reshape", eight, ints("s", DataType.INT64, -1, -1)), reshaped, "At most one dimension can be -1");
        refused("reshape", () -> infer("reshape", eight, ints("s", DataType.INT64, 1L << 62, 1L << 62, 0)), reshaped, "too many elements");
        Tensor one = ints("x", DataType.FP32, 1);
        Runnable expanded = () -> assertArrayEquals(new long[] {2, 3}, infer("expand", one, ints("s", DataType.INT64, 2, 3)).outputs().get(0).shape());
        // an allocation ONNX Runtime cannot make is the request asking for too much memory: 413, not 400
        var tooLarge = assertThrows(InferenceException.TooLarge.class, () -> infer("expand", one, ints("s", DataType.INT64, 1L << 20, 1L << 20)));
        assertTrue(tooLarge.getMessage().contains("model 'expand' version 1") && tooLarge.getMessage().contains("Failed to allocate memory"),
                tooLarge.getMessage());
        expanded.run();
        refused("expand", () -> infer("expand", one, ints("s", DataType.INT64, 1L << 32, 1L << 32, 1L << 32)), expanded, "Integer overflow");
        refused("expand", () -> infer("expand", one, ints("s", DataType.INT64, -3)), expanded, "must be >= 0");
    }

    @Test
    void triluStftAndDftValuesThatCrashOnnxRuntimeAreGuarded() {
        Tensor square = ints("x", DataType.FP32, new long[] {2, 2}, 1, 2, 3, 4);
        assertArrayEquals(new long[] {1, 2, 3, 4}, values(infer("trilu", square, ints("k", DataType.INT64, new long[0], Long.MIN_VALUE + 1)).outputs().get(0)),
                "k far below the diagonal keeps everything");
        assertArrayEquals(new long[] {0, 0, 0, 0}, values(infer("trilu", square, ints("k", DataType.INT64, new long[0], Long.MAX_VALUE)).outputs().get(0)));
        assertArrayEquals(new long[] {0, 2, 0, 0}, values(infer("trilu", square, ints("k", DataType.INT64, new long[0], 1)).outputs().get(0)));
        Tensor signal = ints("x", DataType.FP32, new long[] {1, 16, 1}, new long[16]);
        Tensor step = ints("step", DataType.INT64, new long[0], 4);
        refused("stft", () -> infer("stft", signal, step, ints("length", DataType.INT64, new long[0], 0)),
                () -> infer("stft", signal, step, ints("length", DataType.INT64, new long[0], 4)), "frame_length of STFT node", "must be positive");
        refused("stft", () -> infer("stft", signal, step, ints("length", DataType.INT64, new long[0], -4)),
                () -> infer("stft", signal, step, ints("length", DataType.INT64, new long[0], 8)), "must be positive");
        Tensor four = ints("x", DataType.FP32, new long[] {1, 4, 1}, 1, 2, 3, 4);
        assertArrayEquals(new long[] {1, 4, 2}, infer("dft_empty_axis", four, ints("n", DataType.INT64, 4)).outputs().get(0).shape());
        refused("dft_empty_axis", () -> infer("dft_empty_axis", four, ints("n", DataType.INT64, 0)),
                () -> infer("dft_empty_axis", four, ints("n", DataType.INT64, 4)), "dft_length must be greater than zero");
    }

    @Test
    void emptyTensorsAndStringsRun() {
        assertArrayEquals(new long[] {0, 2}, infer("matmul", ints("x", DataType.FP32, new long[] {0, 2}, new long[0]), ints("w", DataType.FP32, new long[] {2, 2}, 1, 0, 0, 1))
                .outputs().get(0).shape());
        assertArrayEquals(new long[] {0}, infer("strings", strings("a"), strings("b")).outputs().get(0).shape());
        String big = "x".repeat(1 << 20);
        assertArrayEquals(new long[] {1, 0, 1, 1, 0}, values(infer("strings", strings("a", "", "", big, "\u0000\u00fc", "\u0000\u00fc"),
                strings("b", "", "-", big, "\u0000\u00fc", "\u0000\u00fd")).outputs().get(0)));
        refused("strings", () -> infer("strings", strings("a", "x", "y"), strings("b", "x", "y", "z")),
                () -> infer("strings", strings("a", "x"), strings("b", "x")), "Equal node", "broadcast");
    }
}
