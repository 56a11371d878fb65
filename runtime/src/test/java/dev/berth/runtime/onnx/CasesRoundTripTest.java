package dev.berth.runtime.onnx;

import dev.berth.registry.LocalRegistry;
import dev.berth.runtime.InferenceRequest;
import dev.berth.runtime.InferenceResponse;
import dev.berth.runtime.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of every test model's cases.json goes through the core and comes back exactly as onnxruntime produced it. */
class CasesRoundTripTest {
    @TempDir
    static Path root;
    static OnnxInferenceService service;

    @BeforeAll
    static void start() throws Exception {
        for (String model : TestModels.TESTING) {
            TestModels.addVersion(root, model, 1, model);
        }
        service = TestModels.start(OnnxInferenceService.builder().registry(LocalRegistry.open(root)).pollInterval(Duration.ZERO));
        assertTrue(service.ready());
    }

    @AfterAll
    static void stop() {
        service.close();
    }

    @Test
    void everyCaseOfEveryModelRoundTripsExactly() {
        int checked = 0;
        for (String model : TestModels.TESTING) {
            List<TestModels.Case> cases = TestModels.cases(model);
            for (int i = 0; i < cases.size(); i++) {
                TestModels.Case c = cases.get(i);
                InferenceResponse r = service.infer(new InferenceRequest(model, null, "case-" + i, c.inputs(), List.of(), Map.of()));
                assertEquals(1, r.version());
                assertEquals("case-" + i, r.id());
                assertEquals(c.outputs().size(), r.outputs().size(), model + " case " + i + " output count");
                for (Tensor actual : r.outputs()) {
                    Tensor expected = c.outputs().get(actual.name());
                    TestModels.assertTensorEquals(expected, actual, model + " case " + i);
                    checked++;
                }
            }
        }
        assertTrue(checked >= 30, "checked " + checked + " outputs");
    }

    @Test
    void unsignedExtremesAndUint64AboveTwoToThe63SurviveExactly() {
        BigInteger[] values = {BigInteger.ZERO, BigInteger.ONE, BigInteger.TWO.pow(53).add(BigInteger.ONE),
                BigInteger.TWO.pow(63), new BigInteger("18446744073709551615")};
        ByteBuffer u64 = ByteBuffer.allocateDirect(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (BigInteger v : values) {
            u64.putLong(v.longValue());
        }
        u64.flip();
        ByteBuffer u32 = le(5 * 4);
        for (long v : new long[] {0, 1, 0x7fffffffL, 0x80000000L, 0xffffffffL}) {
            u32.putInt((int) v);
        }
        u32.flip();
        ByteBuffer u16 = le(5 * 2);
        for (int v : new int[] {0, 1, 0x7fff, 0x8000, 0xffff}) {
            u16.putShort((short) v);
        }
        u16.flip();
        List<Tensor> inputs = new java.util.ArrayList<>(allTypesZeros(5));
        inputs.replaceAll(t -> switch (t.name()) {
            case "in_uint64" -> Tensor.ofRaw("in_uint64", t.datatype(), new long[] {1, 5}, u64);
            case "in_uint32" -> Tensor.ofRaw("in_uint32", t.datatype(), new long[] {1, 5}, u32);
            case "in_uint16" -> Tensor.ofRaw("in_uint16", t.datatype(), new long[] {1, 5}, u16);
            default -> t;
        });
        InferenceResponse r = service.infer(new InferenceRequest("all_types", "1", null, inputs,
                List.of("out_uint64", "out_uint32", "out_uint16"), Map.of()));
        assertEquals(List.of("out_uint64", "out_uint32", "out_uint16"), r.outputs().stream().map(Tensor::name).toList());
        ByteBuffer out = r.outputs().get(0).data();
        for (BigInteger v : values) {
            assertEquals(v, new BigInteger(Long.toUnsignedString(out.getLong())));
        }
        assertEquals(List.of(0L, 1L, 0x7fffffffL, 0x80000000L, 0xffffffffL), longs(r.outputs().get(1).data(), 4));
        assertEquals(List.of(0L, 1L, 0x7fffL, 0x8000L, 0xffffL), longs(r.outputs().get(2).data(), 2));
    }

    @Test
    void nanInfinityAndNegativeZeroBitPatternsSurvive() {
        ByteBuffer f16 = le(4 * 2);
        for (short bits : new short[] {(short) 0x7e00, (short) 0x7c00, (short) 0x8000, (short) 0x7d01}) {
            f16.putShort(bits);
        }
        f16.flip();
        ByteBuffer f32 = le(4 * 4);
        for (int bits : new int[] {0x7fc00000, 0x7f800000, 0x80000000, 0x7fa00001}) {
            f32.putInt(bits);
        }
        f32.flip();
        ByteBuffer f64 = le(4 * 8);
        for (long bits : new long[] {0x7ff8000000000000L, 0xfff0000000000000L, 0x8000000000000000L, Double.doubleToRawLongBits(Double.MIN_VALUE)}) {
            f64.putLong(bits);
        }
        f64.flip();
        List<Tensor> inputs = new java.util.ArrayList<>(allTypesZeros(4));
        inputs.replaceAll(t -> switch (t.name()) {
            case "in_fp16" -> Tensor.ofRaw("in_fp16", t.datatype(), new long[] {1, 4}, f16);
            case "in_fp32" -> Tensor.ofRaw("in_fp32", t.datatype(), new long[] {1, 4}, f32);
            case "in_fp64" -> Tensor.ofRaw("in_fp64", t.datatype(), new long[] {1, 4}, f64);
            default -> t;
        });
        InferenceResponse r = service.infer(new InferenceRequest("all_types", null, null, inputs,
                List.of("out_fp16", "out_fp32", "out_fp64"), Map.of()));
        assertEquals(List.of(0x7e00L, 0x7c00L, 0x8000L, 0x7d01L), longs(r.outputs().get(0).data(), 2));
        assertEquals(List.of(0x7fc00000L, 0x7f800000L, 0x80000000L, 0x7fa00001L), longs(r.outputs().get(1).data(), 4));
        ByteBuffer d = r.outputs().get(2).data();
        assertEquals(0x7ff8000000000000L, d.getLong());
        assertEquals(0xfff0000000000000L, d.getLong());
        assertEquals(0x8000000000000000L, d.getLong());
        assertEquals(Double.doubleToRawLongBits(Double.MIN_VALUE), d.getLong());
    }

    /** Inputs for all_types with n zero elements each (shape [1, n]). */
    static List<Tensor> allTypesZeros(int n) {
        List<Tensor> first = TestModels.cases("all_types").get(0).inputs();
        return first.stream().map(t -> t.datatype() == dev.berth.registry.DataType.BYTES
                ? Tensor.ofBytes(t.name(), new long[] {1, n}, java.util.Collections.nCopies(n, "\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                : Tensor.ofRaw(t.name(), t.datatype(), new long[] {1, n}, ByteBuffer.allocate(n * t.datatype().byteSize()))).toList();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static List<Long> longs(ByteBuffer b, int width) {
        List<Long> out = new java.util.ArrayList<>();
        while (b.remaining() >= width) {
            out.add(switch (width) {
                case 2 -> (long) Short.toUnsignedInt(b.getShort());
                case 4 -> Integer.toUnsignedLong(b.getInt());
                default -> b.getLong();
            });
        }
        return out;
    }
}
