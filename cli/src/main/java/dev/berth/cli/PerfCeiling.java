package dev.berth.cli;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.DataType;
import dev.berth.registry.InvalidArgumentException;
import dev.berth.registry.ServingConfig;
import dev.berth.runtime.onnx.OrtNatives;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The compute ceiling of {@code berth perf}: the version's model file called in-process through
 * ONNX Runtime's Java API, with the session options berth derives from the same serving config
 * (intra- and inter-op threads, optimisation level, number of sessions), no server in between. A
 * call wraps the prepared inputs (direct buffers, read in place), runs, and copies each output out
 * of native memory: what any server must do at least.
 */
final class PerfCeiling implements AutoCloseable {
    private final OrtEnvironment env;
    private final List<OrtSession> sessions;
    private final AtomicInteger next = new AtomicInteger();

    private PerfCeiling(OrtEnvironment env, List<OrtSession> sessions) {
        this.env = env;
        this.sessions = sessions;
    }

    static PerfCeiling open(Path model, ServingConfig config) throws OrtException {
        OrtEnvironment env = OrtNatives.environment();
        List<OrtSession> sessions = new ArrayList<>();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(config.intraOpThreads());
            options.setInterOpNumThreads(config.interOpThreads());
            options.setOptimizationLevel(switch (config.optimizationLevel()) {
                case "disabled" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
            });
            for (int i = 0; i < config.sessions(); i++) {
                sessions.add(env.createSession(model.toString(), options));
            }
        } catch (OrtException | RuntimeException e) {
            for (OrtSession s : sessions) {
                s.close();
            }
            throw e;
        }
        return new PerfCeiling(env, sessions);
    }

    /** Whether ONNX Runtime's Java API can make tensors of every input of this payload. */
    static boolean supports(PerfPayload payload) {
        return payload.inputs().stream().allMatch(in -> javaType(in.datatype()) != null);
    }

    /** A caller for one thread, on the next session (round robin, as the core spreads its sessions). */
    PerfMeasurement.Caller caller(PerfPayload payload) {
        if (!supports(payload)) {
            throw new InvalidArgumentException("ONNX Runtime's Java API has no tensor type for one of the inputs");
        }
        OrtSession session = sessions.get(Math.floorMod(next.getAndIncrement(), sessions.size()));
        List<PerfPayload.Input> inputs = payload.inputs();
        List<ByteBuffer> buffers = new ArrayList<>();
        for (PerfPayload.Input in : inputs) {
            ByteBuffer b = ByteBuffer.allocateDirect(in.raw().length).order(ByteOrder.nativeOrder());
            // the raw bytes are little-endian; ONNX Runtime reads native order (little-endian on every supported CPU)
            b.put(in.raw()).flip();
            buffers.add(b);
        }
        return new PerfMeasurement.Caller() {
            @Override
            public void call() throws OrtException {
                Map<String, OnnxTensor> feed = new HashMap<>();
                try {
                    for (int i = 0; i < inputs.size(); i++) {
                        PerfPayload.Input in = inputs.get(i);
                        feed.put(in.name(), OnnxTensor.createTensor(env, buffers.get(i).duplicate(), in.shape(), javaType(in.datatype())));
                    }
                    try (OrtSession.Result result = session.run(feed)) {
                        for (Map.Entry<String, OnnxValue> output : result) {
                            if (output.getValue() instanceof OnnxTensor t && t.getInfo().type != OnnxJavaType.STRING) {
                                ByteBuffer copy = t.getByteBuffer();
                                if (copy.remaining() < 0) {
                                    throw new IllegalStateException();
                                }
                            }
                        }
                    }
                } finally {
                    feed.values().forEach(OnnxTensor::close);
                }
            }

            @Override
            public void close() {
            }
        };
    }

    private static OnnxJavaType javaType(DataType type) {
        return switch (type) {
            case FP32 -> OnnxJavaType.FLOAT;
            case FP64 -> OnnxJavaType.DOUBLE;
            case FP16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            case INT8 -> OnnxJavaType.INT8;
            case UINT8 -> OnnxJavaType.UINT8;
            case INT16 -> OnnxJavaType.INT16;
            case INT32 -> OnnxJavaType.INT32;
            case INT64 -> OnnxJavaType.INT64;
            case BOOL -> OnnxJavaType.BOOL;
            default -> null;
        };
    }

    @Override
    public void close() throws OrtException {
        for (OrtSession s : sessions) {
            s.close();
        }
    }
}
