package dev.berth.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.berth.registry.ServingConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Opens a version's ONNX Runtime sessions, on the model as {@link ModelGuards} rewrote it where it
 * needed guards against ONNX Runtime crashes, else on the file itself.
 */
final class GuardedSessions {
    private static final System.Logger LOG = System.getLogger(GuardedSessions.class.getName());
    /** ONNX Runtime's session option for where external initializers live when a model is loaded from bytes. */
    private static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    private GuardedSessions() {
    }

    /** {@code config.sessions()} sessions of {@code modelFile}; none is left open when one fails. */
    static List<OrtSession> open(String label, Path modelFile, ServingConfig config) throws OrtException, IOException {
        OrtEnvironment env = OrtNatives.environment();
        byte[] guarded = guardedModel(env, label, modelFile);
        List<OrtSession> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < config.sessions(); i++) {
                try (OrtSession.SessionOptions options = OrtSessionOptions.forServing(config)) {
                    if (guarded == null) {
                        sessions.add(env.createSession(modelFile.toString(), options));
                    } else {
                        // loaded from memory: external weights are still found beside the model file
                        options.addConfigEntry(EXTERNAL_DATA_FOLDER, modelFile.toAbsolutePath().getParent().toString());
                        sessions.add(env.createSession(guarded, options));
                    }
                    EnvironmentHold.sessionOpened();
                }
            }
            return List.copyOf(sessions);
        } catch (OrtException | RuntimeException e) {
            closeAll(sessions);
            throw e;
        }
    }

    static void closeAll(List<OrtSession> sessions) {
        for (OrtSession s : sessions) {
            closeQuietly(s);
        }
    }

    static void closeQuietly(OrtSession session) {
        try {
            EnvironmentHold.sessionClosed();
            session.close();
        } catch (OrtException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing a session failed: " + e);
        }
    }

    /**
     * The model with {@link ModelGuards}' guards, or null when it needs none (then the session
     * loads the file itself, without a copy on the Java heap).
     */
    private static byte[] guardedModel(OrtEnvironment env, String label, Path modelFile) throws IOException {
        if (!ModelGuards.mayNeedGuards(modelFile)) {
            return null;
        }
        ModelGuards.Result result = ModelGuards.apply(Files.readAllBytes(modelFile), (probe, names) -> probeTypes(env, probe, names));
        for (String line : result.unguarded()) {
            LOG.log(System.Logger.Level.WARNING, label + ": " + line);
        }
        if (!result.applied().isEmpty()) {
            LOG.log(System.Logger.Level.INFO, () -> label + ": " + result.applied().size() + " guard(s) against ONNX Runtime crashes: "
                    + String.join("; ", result.applied()));
        }
        return result.model();
    }

    /** Element types ONNX Runtime infers for {@code names}, exposed as outputs of {@code probe}. */
    private static Map<String, Integer> probeTypes(OrtEnvironment env, byte[] probe, Set<String> names) {
        Map<String, Integer> types = new HashMap<>();
        try (OrtSession.SessionOptions options = OrtSessionOptions.forInspection();
             OrtSession session = env.createSession(probe, options)) {
            for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                if (names.contains(e.getKey()) && e.getValue().getInfo() instanceof TensorInfo info) {
                    types.put(e.getKey(), info.onnxType.value);
                }
            }
        } catch (OrtException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "could not ask ONNX Runtime for the types of " + names + ": " + e);
        }
        return types;
    }
}
