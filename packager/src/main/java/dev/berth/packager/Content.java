package dev.berth.packager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The parts of a registered version that an image may leave out: what explains a model rather
 * than what serves it. Chosen with {@code berth package --include data,code,logs}.
 */
public enum Content {
    /** The version's {@code data/} folder: training data snapshots or samples. */
    DATA,
    /** The version's {@code code/} folder: the training code. */
    CODE,
    /** Training logs: a {@code logs/} folder, {@code *.log} files and {@code *log*.txt} files. */
    LOGS;

    /** What goes in without {@code --include}: none of them. */
    public static final Set<Content> DEFAULT = Set.of();

    /** The kind of a file, by its path relative to the version folder; null for a file always packaged. */
    static Content of(Path relative) {
        String first = relative.getName(0).toString();
        if (relative.getNameCount() > 1 && first.equals("data")) {
            return DATA;
        }
        if (relative.getNameCount() > 1 && first.equals("code")) {
            return CODE;
        }
        String file = relative.getFileName().toString().toLowerCase(Locale.ROOT);
        if ((relative.getNameCount() > 1 && first.equals("logs")) || file.endsWith(".log")
                || (file.endsWith(".txt") && file.contains("log"))) {
            return LOGS;
        }
        return null;
    }

    /**
     * Parses {@code data,code,logs} (any subset, or {@code none}).
     *
     * @throws PackagingException.InvalidOptionException naming the allowed values
     */
    public static Set<Content> parse(String list) {
        Set<Content> kinds = EnumSet.noneOf(Content.class);
        for (String part : list.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty() || p.equals("none")) {
                continue;
            }
            try {
                kinds.add(valueOf(p.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new PackagingException.InvalidOptionException("--include takes data, code, logs (comma-separated) or none, not '"
                        + part.trim() + "'");
            }
        }
        return kinds;
    }

    /** The line printed at package time: what went in, what was left out and how to keep it. */
    static String describe(Set<Content> included, Map<Content, List<Path>> leftOut) {
        StringBuilder line = new StringBuilder("image content: the model, its manifest and artifacts");
        for (Content c : values()) {
            if (included.contains(c)) {
                line.append(", ").append(c.label());
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<Content, List<Path>> e : leftOut.entrySet()) {
            long bytes = 0;
            for (Path p : e.getValue()) {
                try {
                    bytes += Files.size(p);
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            }
            int n = e.getValue().size();
            out.add(e.getKey().label() + " (" + n + " file" + (n == 1 ? "" : "s") + ", " + bytes + " bytes)");
        }
        if (!out.isEmpty()) {
            line.append("; left out: ").append(String.join(", ", out));
        }
        if (included.equals(DEFAULT)) {
            line.append(" (the default; --include data,code,logs keeps them)");
        }
        return line.toString();
    }

    private String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
