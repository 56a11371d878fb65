package dev.berth.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.ServingConfig;
import dev.berth.runtime.onnx.OrtNatives;
import dev.berth.runtime.onnx.OrtSessionOptions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * The compute ceiling: one model called in-process through ONNX Runtime's Java API, with the
 * session options berth derives from the same {@link ServingConfig}. One call does what any
 * server must at least do: wrap the input (a direct buffer, so ONNX Runtime reads it in place),
 * run, and copy every output out of native memory.
 */
public final class OrtCase implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;
    private final long[] shape;
    private final FloatBuffer input;

    private OrtCase(OrtEnvironment env, OrtSession session, String inputName, long[] shape, FloatBuffer input) {
        this.env = env;
        this.session = session;
        this.inputName = inputName;
        this.shape = shape;
        this.input = input;
    }

    /** Opens {@code model} and prepares one FP32 input of {@code shape} (the model's first input). */
    public static OrtCase open(Path model, String dataKey, long[] shape, ServingConfig config) throws OrtException {
        OrtEnvironment env = OrtNatives.environment();
        OrtSession session;
        try (OrtSession.SessionOptions options = OrtSessionOptions.forServing(config)) {
            session = env.createSession(model.toString(), options);
        }
        String inputName = session.getInputNames().iterator().next();
        float[] values = BenchData.values(dataKey, BenchData.elements(shape));
        FloatBuffer input = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        input.put(values).flip();
        return new OrtCase(env, session, inputName, shape.clone(), input);
    }

    /** One inference; returns the bytes copied out, so the JIT cannot drop the work. */
    public long run() throws OrtException {
        long bytes = 0;
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, input.duplicate(), shape);
             OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            for (Map.Entry<String, OnnxValue> output : result) {
                ByteBuffer copy = ((OnnxTensor) output.getValue()).getByteBuffer();
                bytes += copy.remaining();
            }
        }
        return bytes;
    }

    public Map<String, NodeInfo> outputs() throws OrtException {
        return session.getOutputInfo();
    }

    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
