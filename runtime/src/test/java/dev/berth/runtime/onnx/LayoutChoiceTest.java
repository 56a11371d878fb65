package dev.berth.runtime.onnx;

import dev.berth.registry.ServingLayout.Candidate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layout rule on made-up timings: which layouts are timed, and which one wins. */
class LayoutChoiceTest {
    private static Candidate c(int sessions, int threads, double rate) {
        return new Candidate(sessions, threads, rate);
    }

    private static String layout(LayoutChoice.Choice choice) {
        return choice.sessions() + "x" + choice.intraOpThreads();
    }

    @Test
    void candidatesStartWithTheConfiguredLayoutAndCoverThreadsAndSessions() {
        assertEquals(List.of("1x1", "1x2", "2x1"), labels(LayoutChoice.candidates(2, 1, 1)));
        assertEquals(List.of("1x1"), labels(LayoutChoice.candidates(1, 1, 1)));
        // sessions stop at MAX_SESSIONS (each holds the weights); the cores left are shared by them
        assertEquals(List.of("1x1", "1x16", "4x1", "4x4"), labels(LayoutChoice.candidates(16, 1, 1)));
        assertEquals(List.of("1x1", "1x4", "4x1"), labels(LayoutChoice.candidates(4, 1, 1)));
        // a layout: auto block that starts elsewhere is timed first and not twice
        assertEquals(List.of("2x1", "1x2"), labels(LayoutChoice.candidates(2, 2, 1)));
    }

    private static List<String> labels(List<Candidate> candidates) {
        return candidates.stream().map(x -> x.sessions() + "x" + x.intraOpThreads()).toList();
    }

    @Test
    void aCheapModelKeepsTheDefaultWhateverTheTimings() {
        LayoutChoice.Choice choice = LayoutChoice.choose(15_000, List.of(c(1, 1, 1000), c(2, 1, 5000)), 1, 1);
        assertEquals("1x1", layout(choice));
        assertTrue(choice.reason().contains("15 us"), choice.reason());
        assertEquals("1x1", layout(LayoutChoice.choose(LayoutChoice.CHEAP_RUN_NANOS - 1, List.of(), 1, 1)));
    }

    @Test
    void theFastestLayoutWinsWhenItBeatsTheDefaultClearly() {
        LayoutChoice.Choice choice = LayoutChoice.choose(400_000, List.of(c(1, 1, 2500), c(1, 2, 3100), c(2, 1, 4600)), 1, 1);
        assertEquals("2x1", layout(choice));
        assertTrue(choice.reason().contains("1.84 x"), choice.reason());
        assertEquals("1x2", layout(LayoutChoice.choose(400_000, List.of(c(1, 1, 2500), c(1, 2, 4000), c(2, 1, 3000)), 1, 1)));
    }

    @Test
    void aGainWithinTheNoiseKeepsTheDefault() {
        // 12 % more runs is not worth a second copy of the weights
        LayoutChoice.Choice choice = LayoutChoice.choose(400_000, List.of(c(1, 1, 2500), c(1, 2, 2600), c(2, 1, 2800)), 1, 1);
        assertEquals("1x1", layout(choice));
        assertTrue(choice.reason().contains("default layout is kept"), choice.reason());
    }

    @Test
    void amongNearlyEqualLayoutsTheFewestSessionsThenThreadsWin() {
        // 2x1 is 3 % ahead of 1x2: within NEAR_BEST, and one session holds the weights once
        assertEquals("1x2", layout(LayoutChoice.choose(400_000, List.of(c(1, 1, 2000), c(1, 2, 3880), c(2, 1, 4000)), 1, 1)));
        assertEquals("4x1", layout(LayoutChoice.choose(400_000,
                List.of(c(1, 1, 1000), c(1, 16, 2000), c(4, 1, 3900), c(4, 4, 4000)), 1, 1)));
    }

    @Test
    void repeatedRowsMakeOneBatchOfCopies() {
        var one = TestModels.fp32("x", new long[] {1, 2}, 1f, 2f);
        var rows = WarmUp.repeatRows(List.of(one), 3).get(0);
        assertEquals(List.of(3L, 2L), java.util.Arrays.stream(rows.shape()).boxed().toList());
        float[] values = new float[6];
        rows.data().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        assertEquals("[1.0, 2.0, 1.0, 2.0, 1.0, 2.0]", java.util.Arrays.toString(values));
    }
}
