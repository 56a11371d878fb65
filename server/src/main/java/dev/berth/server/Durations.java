package dev.berth.server;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in berth's settings: a whole number with a unit, {@code ms}, {@code s} (the default),
 * {@code m} or {@code h} ({@code 500ms}, {@code 20s}, {@code 5m}, {@code 2h}), or ISO-8601
 * ({@code PT1M30S}) — the syntax of {@code report-interval} and {@code poll-interval}.
 */
public final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("([0-9]{1,9})(ms|s|m|h)?");

    private Durations() {
    }

    /**
     * Parses {@code text}, the value of setting {@code key}.
     *
     * @throws IllegalArgumentException naming the key when the text is not a duration
     */
    public static Duration parse(String key, String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Matcher m = SIMPLE.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofSeconds(n);
            };
        }
        if (t.startsWith("pt")) {
            try {
                Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
                if (!d.isNegative()) {
                    return d;
                }
            } catch (DateTimeParseException e) {
                // the message below says what is accepted
            }
        }
        throw new IllegalArgumentException(key + " '" + text + "' is not a duration (use e.g. 500ms, 20s, 5m, 2h)");
    }
}
