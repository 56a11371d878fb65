package dev.berth.runtime.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.berth.registry.testing.SlowOnnx;

import java.lang.reflect.Constructor;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * A JVM that does what a SIGTERM does to berth's sessions, without the timing: opens a session,
 * runs ONNX Runtime's own shutdown hook body ({@code OrtEnvironment$OrtEnvCloser}), then runs the
 * session again on a fresh thread (a queued request reaching a worker) and closes it. Prints
 * {@code ok} when it survived. With the argument {@code unheld} it first drops berth's reference
 * (the situation before the fix). Run as a child process by {@link EnvironmentHoldTest}.
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
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            OrtSession session = env.createSession(SlowOnnx.model(48), options);
            run(env, session);
            ortShutdownHook(env).run();
            System.out.println("ONNX Runtime's hook ran");
            Thread worker = new Thread(() -> run(env, session));
            worker.start();
            worker.join();
            session.close();
        }
        System.out.println("ok");
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

    /** The Runnable ONNX Runtime registers as its shutdown hook, for this environment. */
    private static Runnable ortShutdownHook(OrtEnvironment env) throws ReflectiveOperationException {
        Class<?> closer = Class.forName("ai.onnxruntime.OrtEnvironment$OrtEnvCloser");
        Constructor<?> c = closer.getDeclaredConstructor(long.class, long.class);
        c.setAccessible(true);
        java.lang.reflect.Field api = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
        api.setAccessible(true);
        return (Runnable) c.newInstance(api.getLong(null), EnvironmentHold.nativeHandle(env));
    }
}
