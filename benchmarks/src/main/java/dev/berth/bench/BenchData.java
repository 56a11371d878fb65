package dev.berth.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** Deterministic input values, so every run (and every tool) sends the same tensors. */
public final class BenchData {
    /** One row of the churn sample's example request: realistic magnitudes for its JSON size. */
    private static final float[] CHURN_ROW = {43.0f, 66.39f, 2809.13f, 1.0f, 1.0f, 1.0f, 0.0f, 1.0f};

    private BenchData() {
    }

    /** {@code count} FP32 values for a model's input: the churn row repeated, else seeded noise. */
    public static float[] values(String model, int count) {
        float[] v = new float[count];
        if (model.startsWith("churn")) {
            for (int i = 0; i < count; i++) {
                v[i] = CHURN_ROW[i % CHURN_ROW.length];
            }
            return v;
        }
        Random random = new Random(count * 31L + model.hashCode());
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.5);
        }
        return v;
    }

    /** The values little-endian, the Open Inference Protocol's raw layout. */
    public static byte[] littleEndian(float[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buffer.asFloatBuffer().put(values);
        return buffer.array();
    }

    public static int elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return Math.toIntExact(n);
    }
}
