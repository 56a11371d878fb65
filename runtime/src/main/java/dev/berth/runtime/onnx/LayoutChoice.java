package dev.berth.runtime.onnx;

import dev.berth.registry.ServingLayout.Candidate;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which layouts are worth timing for a model on this machine, and which of the timed ones to
 * serve with. Pure arithmetic on timings, so that the rule can be tested with made-up numbers;
 * {@link LayoutProbe} does the timing.
 *
 * <p>The rule (docs/registry-format.md, "serving-layout.json"): a model whose run on the cheap
 * default (one session, one intra-op thread) takes under {@link #CHEAP_RUN_NANOS} keeps it: such a
 * run costs less than the HTTP exchange around it, so more sessions or threads would only spend
 * memory and cores the front end needs. A dearer model gets the layout with the most runs per
 * second, but only where it beats the default by {@link #MIN_GAIN} (a machine's noise is not a
 * reason to hold twice the sessions); among layouts within {@link #NEAR_BEST} of the best, the
 * one with the fewest sessions, then the fewest threads, wins (each session holds a copy of the
 * model's weights).
 */
final class LayoutChoice {
    /** Runs shorter than this keep the default layout: 0.1 ms, about the CPU one small HTTP request costs berth. */
    static final long CHEAP_RUN_NANOS = 100_000;
    /** A layout replaces the default only with this many more runs per second (1.15: 15 % more). */
    static final double MIN_GAIN = 1.15;
    /** Layouts within this share of the best count as equally fast. */
    static final double NEAR_BEST = 0.95;
    /** Most sessions timed: each holds the model's weights once more. */
    static final int MAX_SESSIONS = 4;

    /** The layout chosen and why. */
    record Choice(int sessions, int intraOpThreads, String reason) {
    }

    private LayoutChoice() {
    }

    /**
     * The layouts to time on {@code cores} processors, the configured (cheap default) one first:
     * one session with every core as intra-op threads, as many single-threaded sessions as there
     * are cores (at most {@link #MAX_SESSIONS}), and where cores remain, those sessions sharing them.
     */
    static List<Candidate> candidates(int cores, int baseSessions, int baseIntraOpThreads) {
        Set<List<Integer>> layouts = new LinkedHashSet<>();
        layouts.add(List.of(baseSessions, baseIntraOpThreads));
        if (cores > 1) {
            int sessions = Math.min(cores, MAX_SESSIONS);
            layouts.add(List.of(1, cores));
            layouts.add(List.of(sessions, 1));
            layouts.add(List.of(sessions, Math.max(1, cores / sessions)));
        }
        List<Candidate> out = new ArrayList<>();
        for (List<Integer> l : layouts) {
            out.add(new Candidate(l.get(0), l.get(1), 0));
        }
        return out;
    }

    /** Whether a model whose default run takes {@code runNanos} is cheap enough to keep the default without timing more. */
    static boolean cheap(long runNanos) {
        return runNanos < CHEAP_RUN_NANOS;
    }

    /**
     * The layout to serve with, from timed candidates (the first is the configured default).
     *
     * @param runNanos one run on the default layout
     * @param timed    every candidate with its runs per second, the default first; empty for a cheap model
     */
    static Choice choose(long runNanos, List<Candidate> timed, int baseSessions, int baseIntraOpThreads) {
        if (cheap(runNanos) || timed.isEmpty()) {
            return new Choice(baseSessions, baseIntraOpThreads, "one run takes " + micros(runNanos) + " us, under " + micros(CHEAP_RUN_NANOS)
                    + " us: the default layout is kept");
        }
        Candidate base = timed.get(0);
        double best = timed.stream().mapToDouble(Candidate::runsPerSecond).max().orElse(0);
        if (best < base.runsPerSecond() * MIN_GAIN) {
            return new Choice(base.sessions(), base.intraOpThreads(), "no layout was " + Math.round((MIN_GAIN - 1) * 100)
                    + " % faster than " + base.label() + ": the default layout is kept");
        }
        Candidate pick = null;
        for (Candidate c : timed) {
            if (c.runsPerSecond() < best * NEAR_BEST) {
                continue;
            }
            if (pick == null || c.sessions() < pick.sessions()
                    || (c.sessions() == pick.sessions() && c.intraOpThreads() < pick.intraOpThreads())) {
                pick = c;
            }
        }
        return new Choice(pick.sessions(), pick.intraOpThreads(), pick.label() + " ran "
                + String.format(java.util.Locale.ROOT, "%.2f", pick.runsPerSecond() / base.runsPerSecond())
                + " x the runs per second of " + base.label());
    }

    private static long micros(long nanos) {
        return Math.round(nanos / 1000.0);
    }
}
