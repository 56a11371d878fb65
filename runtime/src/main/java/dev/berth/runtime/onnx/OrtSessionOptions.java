package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.ServingConfig;

/**
 * The ONNX Runtime session options berth derives from a version's {@link ServingConfig}: the one
 * place that maps threads and the optimisation level, used by the core and by the benchmarks'
 * in-process ceiling so that both run the model alike.
 */
public final class OrtSessionOptions {
    private OrtSessionOptions() {
    }

    /**
     * New options for {@code config} (the caller closes them): intra- and inter-op threads where
     * set (0 leaves ONNX Runtime's default), and the optimisation level ({@code disabled},
     * {@code basic}, {@code extended}, anything else {@code all}).
     */
    public static OrtSession.SessionOptions forServing(ServingConfig config) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            if (config.intraOpThreads() > 0) {
                options.setIntraOpNumThreads(config.intraOpThreads());
            }
            if (config.interOpThreads() > 0) {
                options.setInterOpNumThreads(config.interOpThreads());
            }
            options.setOptimizationLevel(switch (config.optimizationLevel()) {
                case "disabled" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
            });
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /** Options for a throw-away session that only reports types or a signature: no optimisation, one thread. */
    static OrtSession.SessionOptions forInspection() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }
}
