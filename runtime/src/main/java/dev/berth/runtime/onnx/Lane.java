package dev.berth.runtime.onnx;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One session and the scratch memory of whoever runs on it: the direct buffer that heap inputs and
 * merged batches are copied into. ONNX Runtime only reads it during the run, so it is reused for
 * the next one instead of allocating (and later freeing) direct memory per request. A lane is used
 * by one run at a time ({@link DynamicBatcher} hands it out).
 */
final class Lane {
    private static final int KEEP_LIMIT = 64 << 20;
    private final OrtSession session;
    private ByteBuffer scratch = ByteBuffer.allocateDirect(0);
    private int used;
    private RunDeadline deadline;

    Lane(OrtSession session) {
        this.session = session;
    }

    OrtSession session() {
        return session;
    }

    /** The next run's deadline, {@code delayNanos} from now: the lane's reused run options, armed. */
    RunDeadline deadline(long delayNanos) throws OrtException {
        if (deadline == null || !deadline.usable()) {
            deadline = RunDeadline.create();
        }
        return deadline.arm(delayNanos);
    }

    /** Frees what the lane holds besides its session; called once, after its last run. */
    void close() {
        if (deadline != null) {
            deadline.close();
        }
    }

    void reset() {
        used = 0;
    }

    /** A direct little-endian region of {@code bytes} bytes, valid until the next {@link #reset()}. */
    ByteBuffer take(int bytes) {
        if (used + bytes > scratch.capacity()) {
            int size = Math.max(used + bytes, Math.min(KEEP_LIMIT, scratch.capacity() * 2));
            if (size > KEEP_LIMIT) {
                return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
            }
            // regions handed out earlier keep the old buffer alive until they are dropped
            scratch = ByteBuffer.allocateDirect(size);
            used = 0;
        }
        ByteBuffer region = scratch.duplicate().position(used).limit(used + bytes).slice().order(ByteOrder.LITTLE_ENDIAN);
        used += bytes;
        return region;
    }
}
