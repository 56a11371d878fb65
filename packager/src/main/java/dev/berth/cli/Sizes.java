package dev.berth.cli;

import java.util.Locale;

/** How the CLI writes byte sizes and counted nouns, so every command says "1 version" and "2 versions" alike. */
final class Sizes {
    private Sizes() {
    }

    /** Bytes as B, KiB or MiB with one decimal. */
    static String human(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", n / (1024.0 * 1024 * 1024));
    }

    /** {@code "1 file"}, {@code "3 files"}: the noun in the plural (an added s) unless the count is one. */
    static String count(long n, String noun) {
        return n + " " + (n == 1 ? noun : noun + "s");
    }
}
