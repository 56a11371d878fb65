package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * berth's own reference on ONNX Runtime's native environment, so that the environment outlives
 * every session however the JVM's shutdown hooks are scheduled.
 *
 * <p>ONNX Runtime's jar registers a shutdown hook ({@code OrtEnvironment$OrtEnvCloser}) that
 * releases the native environment. The JVM starts all shutdown hooks at once, in no order, so on
 * SIGTERM that hook runs while berth's own hook is still draining: every {@code OrtSession.run}
 * that starts after it (a request queued behind a slow one, the next batch) dies with SIGSEGV in
 * {@code libonnxruntime.so}, exit 134 (issue 10; reproduced by {@code SlowModelShutdownIT} and in
 * one JVM by {@code EnvironmentHoldTest}).
 *
 * <p>The native environment is reference counted: {@code OrtEnv::GetInstance} hands out the one
 * instance and counts it, {@code OrtEnv::Release} frees it when the count reaches zero. berth takes
 * a second reference through the same private native method the Java class uses to create it, so
 * ONNX Runtime's hook only drops the count to one; {@link #release()} drops berth's reference
 * once the server closed every session (the order ONNX Runtime's own hook assumes: sessions first,
 * the environment last). Whichever of the two runs last frees the environment.
 *
 * <p>The two private members are reached by reflection (the jar is on the class path, an unnamed
 * module, so no {@code --add-opens} is needed). Where a future ONNX Runtime renames them, berth
 * logs a warning and serves as before, without the protection; {@code EnvironmentHoldTest}
 * fails on such an upgrade.
 */
final class EnvironmentHold {
    private static final System.Logger LOG = System.getLogger(EnvironmentHold.class.getName());
    private static long handle;
    private static boolean released;
    /** Served sessions open now: the reference is dropped only when none is left. */
    private static final AtomicInteger openSessions = new AtomicInteger();

    private EnvironmentHold() {
    }

    /** Takes berth's reference on {@code env}'s native environment; true when it holds one. Idempotent. */
    static synchronized boolean take(OrtEnvironment env) {
        if (handle != 0) {
            return true;
        }
        try {
            Method create = OrtEnvironment.class.getDeclaredMethod("createHandle", long.class, int.class, String.class);
            create.setAccessible(true);
            long held = (long) create.invoke(null, apiHandle(), OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING.getValue(),
                    OrtEnvironment.DEFAULT_NAME);
            if (held != nativeHandle(env)) {
                // not the counted singleton this class assumes: give it back rather than keep a second environment
                close(held);
                LOG.log(System.Logger.Level.WARNING, "ONNX Runtime handed out a second environment; "
                        + "shutdown under load is not protected (see docs/native-safety.md)");
                return false;
            }
            handle = held;
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot hold ONNX Runtime's environment (" + e
                    + "); shutdown under load is not protected (see docs/native-safety.md)");
            return false;
        }
    }

    /** True while berth holds its reference. */
    static synchronized boolean held() {
        return handle != 0 && !released;
    }

    /** A served session was opened. */
    static void sessionOpened() {
        openSessions.incrementAndGet();
    }

    /** A served session was closed. */
    static void sessionClosed() {
        openSessions.decrementAndGet();
    }

    /**
     * Drops berth's reference: call only when no session will run again in this JVM (the process is
     * shutting down). Where a served session is still open (a drain that timed out), the reference is
     * kept and the environment is left to the process exit; true when it was dropped. Idempotent.
     */
    static synchronized boolean release() {
        if (handle == 0 || released) {
            return released;
        }
        int open = openSessions.get();
        if (open > 0) {
            LOG.log(System.Logger.Level.WARNING, open + " ONNX Runtime session(s) still open at shutdown; "
                    + "the environment stays until the process exits");
            return false;
        }
        released = true;
        try {
            close(handle);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot release ONNX Runtime's environment: " + e);
        }
        return true;
    }

    /** The private native {@code OrtEnvironment.close(apiHandle, nativeHandle)} ONNX Runtime's own hook calls. */
    static void close(long nativeHandle) throws ReflectiveOperationException {
        Method close = OrtEnvironment.class.getDeclaredMethod("close", long.class, long.class);
        close.setAccessible(true);
        close.invoke(null, apiHandle(), nativeHandle);
    }

    static long nativeHandle(OrtEnvironment env) throws ReflectiveOperationException {
        Field f = OrtEnvironment.class.getDeclaredField("nativeHandle");
        f.setAccessible(true);
        return f.getLong(env);
    }

    private static long apiHandle() throws ReflectiveOperationException {
        Field f = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
        f.setAccessible(true);
        return f.getLong(null);
    }
}
