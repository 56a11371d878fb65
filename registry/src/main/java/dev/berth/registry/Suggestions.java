package dev.berth.registry;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** "Did you mean": the known names closest to a mistyped one, by edit distance. */
public final class Suggestions {
    private Suggestions() {
    }

    /**
     * The names of {@code known} within a small edit distance of {@code typed} (at most 2, and at
     * most a third of its length, ignoring case; a name that starts with what was typed counts too),
     * nearest first, three at most.
     */
    public static List<String> near(String typed, List<String> known) {
        if (typed == null || typed.isEmpty()) {
            return List.of();
        }
        String t = typed.toLowerCase(Locale.ROOT);
        int limit = Math.max(1, Math.min(2, t.length() / 3));
        return known.stream()
                .filter(k -> !k.equals(typed))
                .filter(k -> distance(t, k.toLowerCase(Locale.ROOT)) <= limit || k.toLowerCase(Locale.ROOT).startsWith(t) && t.length() >= 3)
                .sorted(Comparator.comparingInt((String k) -> distance(t, k.toLowerCase(Locale.ROOT))).thenComparing(k -> k))
                .limit(3)
                .toList();
    }

    /** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
