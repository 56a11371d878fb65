package dev.berth.monitoring;

/**
 * Population stability index of a served distribution against the training distribution over the
 * same bins: sum of (served - expected) * ln(served / expected). Below 0.1 is usually read as
 * stable, above 0.25 as a shift worth looking at.
 */
final class Psi {
    /** Floor for empty bins: ln(0) is undefined and a single empty bin must not dominate. */
    static final double FLOOR = 1e-4;

    private Psi() {
    }

    static double of(double[] expected, long[] served) {
        long n = 0;
        for (long c : served) {
            n += c;
        }
        if (n == 0) {
            return 0;
        }
        double psi = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.max(FLOOR, expected[i]);
            double a = Math.max(FLOOR, (double) served[i] / n);
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }
}
