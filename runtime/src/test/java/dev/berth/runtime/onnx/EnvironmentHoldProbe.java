package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.testing.SlowOnnx;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * A JVM that shuts down the way SIGTERM makes berth's shut down, without the timing: opens a
 * session and runs it, then calls {@link System#exit}, which starts every shutdown hook at once,
 * ONNX Runtime's own ({@code OrtEnvironment$OrtEnvCloser}) among them. A hook standing for berth's
 * drain waits until that one has run, runs the session on a fresh thread (a queued request reaching
 * a worker) and prints {@code ok} when it survived. With the argument {@code unheld} it first drops
 * berth's reference (the situation before the fix). Run as a child process by {@link EnvironmentHoldTest}.
 */
public final class EnvironmentHoldProbe {
    private EnvironmentHoldProbe() {
    }

    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtNatives.environment();
        System.out.println("held=" + EnvironmentHold.held());
        if (args.length > 0 && args[0].equals("unheld")) {
            EnvironmentHold.release();
        }
        OrtSession session = env.createSession(SlowOnnx.model(48), new OrtSession.SessionOptions());
        run(env, session);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Thread.sleep(500); // ONNX Runtime's hook, started with this one, has run by now
                System.out.println("ONNX Runtime's hook ran");
                Thread worker = new Thread(() -> run(env, session));
                worker.start();
                worker.join();
                session.close();
                System.out.println("ok");
            } catch (Exception e) {
                System.out.println("failed: " + e);
            }
        }));
        System.exit(0);
    }

    private static void run(OrtEnvironment env, OrtSession session) {
        float[] x = new float[512 * SlowOnnx.WIDTH];
        Arrays.fill(x, 0.5f);
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {512, SlowOnnx.WIDTH});
             OrtSession.Result r = session.run(Map.of("x", in))) {
            System.out.println("run ok");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
