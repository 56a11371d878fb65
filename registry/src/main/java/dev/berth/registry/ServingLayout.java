package dev.berth.registry;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The sessions and intra-op threads a server chose for one version by measuring it
 * ({@code layout: auto}), kept beside the version as {@value LocalRegistry#LAYOUT_FILE} so that
 * the next load on a machine with as many cores reuses it instead of measuring again, and so that
 * {@code berth show} can say how the version is served. Written by the server after registration,
 * like monitoring reports: not part of the manifest, not hashed. The format is in
 * docs/registry-format.md.
 *
 * @param format         {@value #FORMAT}
 * @param measured       when it was measured (UTC, seconds)
 * @param cores          processors the measuring JVM saw; another count means measure again
 * @param sessions       the sessions chosen
 * @param intraOpThreads the intra-op threads per session chosen
 * @param runMicros      one run of the warm-up inputs on the cheap default layout, in microseconds
 * @param inputs         what was run: {@code example_request.json} or {@code generated inputs}, and its rows
 * @param reason         why this layout, in one sentence
 * @param candidates     each layout timed, in the order timed; empty when the model was too cheap to time more
 */
public record ServingLayout(String format, Instant measured, int cores, int sessions, int intraOpThreads, double runMicros,
                            String inputs, String reason, List<Candidate> candidates) {
    /** The format this class writes. */
    public static final String FORMAT = "berth.serving-layout.v1";

    /**
     * One layout as timed.
     *
     * @param sessions       sessions, each run by its own thread at once (as the batcher runs one batch per session)
     * @param intraOpThreads intra-op threads per session
     * @param runsPerSecond  runs of the warm-up inputs completed per second by all sessions together
     */
    public record Candidate(int sessions, int intraOpThreads, double runsPerSecond) {
        /** {@code 2 x 1}: sessions times intra-op threads. */
        public String label() {
            return sessions + " x " + intraOpThreads;
        }
    }

    public ServingLayout {
        Objects.requireNonNull(format, "format");
        if (sessions < 1 || intraOpThreads < 0) {
            throw new InvalidArgumentException("a serving layout needs 1 or more sessions and 0 or more threads, got "
                    + sessions + " x " + intraOpThreads);
        }
        candidates = candidates == null ? List.of() : List.copyOf(candidates);
    }

    /** One line for people: {@code 2 sessions x 1 intra-op thread (measured 2026-12-07T17:00:00Z on 2 cores: ...)}. */
    public String describe() {
        StringBuilder b = new StringBuilder().append(sessions).append(sessions == 1 ? " session x " : " sessions x ")
                .append(intraOpThreads).append(intraOpThreads == 1 ? " intra-op thread" : " intra-op threads")
                .append(" (measured ").append(measured).append(" on ").append(cores).append(cores == 1 ? " core" : " cores")
                .append(", one run ").append(String.format(java.util.Locale.ROOT, "%.0f", runMicros)).append(" us");
        for (Candidate c : candidates) {
            b.append(String.format(java.util.Locale.ROOT, "; %s: %.0f runs/s", c.label(), c.runsPerSecond()));
        }
        return b.append("): ").append(reason).toString();
    }
}
