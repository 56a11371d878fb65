package dev.berth.packager;

import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.event.events.ProgressEvent;
import com.google.cloud.tools.jib.event.progress.Allocation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns Jib's progress and log events into {@link PackageProgress} snapshots: overall fraction,
 * layers and bytes. Jib reports work as a tree of allocations whose leaves carry units; blob
 * transfers count their units in bytes, which is what a user wants to see.
 */
final class JibProgress {
    private static final System.Logger LOG = System.getLogger(JibProgress.class.getName());
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final String PUSH = "pushing blob ";
    private static final String PULL = "pulling base image layer ";
    private static final String TAR = "writing to tar file";
    private static final String DOCKER = "loading to Docker daemon";

    private final PackageListener listener;
    private final Map<Allocation, Long> done = new HashMap<>();
    /** byte-counting transfers by allocation, in the order first seen */
    private final Map<Allocation, Transfer> transfers = new LinkedHashMap<>();
    private final Set<String> skippedPushes = new HashSet<>();
    private double fraction;
    private String phase = "preparing";
    /**
     * Jib's error-level log lines, shown only once the build has succeeded: when one step fails Jib
     * cancels the steps running beside it, and each cancelled one logs its own I/O error ("Socket
     * closed" for the target registry when only the base image was missing), which would bury the
     * one line that says what went wrong.
     */
    private final List<String> errors = new ArrayList<>();

    private static final class Transfer {
        final String kind;
        final String digest;
        final long size;
        long sent;

        Transfer(String kind, String digest, long size) {
            this.kind = kind;
            this.digest = digest;
            this.size = size;
        }
    }

    private final boolean insecureAllowed;

    JibProgress(PackageListener listener, boolean insecureAllowed) {
        this.listener = listener;
        this.insecureAllowed = insecureAllowed;
    }

    /** Jib's notes on falling back from HTTPS, which the user asked for with --insecure-registry. */
    private boolean expected(String message) {
        return insecureAllowed && (message.startsWith("Cannot verify server at ") || message.startsWith("Failed to connect to ")
                && message.contains("Attempting again with HTTP"));
    }

    void onProgress(ProgressEvent event) {
        PackageProgress snapshot;
        synchronized (this) {
            Allocation allocation = event.getAllocation();
            long units = event.getUnits();
            long total = allocation.getAllocationUnits();
            done.merge(allocation, units, Long::sum);
            // Jib's fraction of root is per unit of this allocation
            fraction += allocation.getFractionOfRoot() * units;
            String description = allocation.getDescription();
            String kind = description.startsWith(PUSH) ? "pushing"
                    : description.startsWith(PULL) ? "pulling base image"
                    : description.startsWith(TAR) ? "writing tar"
                    : description.startsWith(DOCKER) ? "loading into docker" : null;
            if (kind != null) {
                phase = kind;
                Transfer t = transfers.computeIfAbsent(allocation, a -> new Transfer(kind, digestIn(description), total));
                t.sent += units;
            } else if (description.startsWith("building") || description.startsWith("Building")) {
                phase = "building layers";
            }
            snapshot = snapshot();
        }
        listener.progress(snapshot);
    }

    void onLog(LogEvent event) {
        String message = event.getMessage();
        if (message.startsWith("Skipping push; BLOB already exists")) {
            String digest = digestIn(message);
            if (digest != null) {
                synchronized (this) {
                    skippedPushes.add(digest);
                }
            }
        }
        if (expected(message)) {
            return;
        }
        if (event.getLevel() == LogEvent.Level.ERROR) {
            LOG.log(System.Logger.Level.DEBUG, "jib: " + message.strip());
            synchronized (this) {
                errors.add(message.strip());
            }
        } else if (event.getLevel() == LogEvent.Level.WARN) {
            listener.message(message.strip());
        }
    }

    /** After a successful build: the error lines Jib logged on its way (retries it recovered from). */
    void buildSucceeded() {
        List<String> shown;
        synchronized (this) {
            shown = List.copyOf(errors);
            errors.clear();
        }
        shown.forEach(listener::message);
    }

    synchronized PackageProgress snapshot() {
        int layers = 0;
        int layersDone = 0;
        long bytes = 0;
        long bytesDone = 0;
        for (Transfer t : transfers.values()) {
            if (!t.kind.equals("pushing") && !t.kind.equals("pulling base image")) {
                // writing a tar or loading into docker: Jib counts these in its own units, not bytes
                // (a whole tar is "1"), so they move the fraction but are no byte count to show
                continue;
            }
            layers++;
            if (t.sent >= t.size) {
                layersDone++;
            }
            if (!skippedPushes.contains(t.digest)) {
                bytes += t.size;
                bytesDone += Math.min(t.sent, t.size);
            }
        }
        return new PackageProgress(Math.min(1.0, fraction), phase, layersDone, layers, bytesDone, bytes);
    }

    /** Blobs pushed (not already present), skipped, and the bytes pushed; config blobs count as pushes. */
    synchronized long[] pushTotals() {
        long sent = 0;
        long sentBytes = 0;
        long skipped = 0;
        for (Transfer t : transfers.values()) {
            if (!t.kind.equals("pushing")) {
                continue;
            }
            if (skippedPushes.contains(t.digest)) {
                skipped++;
            } else {
                sent++;
                sentBytes += t.size;
            }
        }
        return new long[] {sent, skipped, sentBytes};
    }

    private static String digestIn(String text) {
        Matcher m = DIGEST.matcher(text);
        return m.find() ? m.group() : null;
    }
}
