package dev.berth.monitoring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A parsed Prometheus text exposition, for assertions on names, types, labels and values. */
public final class Exposition {
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    public record Sample(String name, Map<String, String> labels, double value) {
    }

    public final Map<String, String> types = new HashMap<>();
    public final List<Sample> samples = new ArrayList<>();

    public static Exposition parse(String text) {
        Exposition e = new Exposition();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ");
                e.types.put(parts[0], parts[1]);
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            Map<String, String> labels = new TreeMap<>();
            if (brace >= 0) {
                Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}')));
                while (m.find()) {
                    labels.put(m.group(1), m.group(2));
                }
            }
            String[] rest = line.substring(space + 1).trim().split(" ");
            e.samples.add(new Sample(name, labels, Double.parseDouble(rest[0])));
        }
        return e;
    }

    /** Samples of {@code name} whose labels include all of {@code match} (key, value, key, value...). */
    public List<Sample> find(String name, String... match) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (!s.name.equals(name)) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i < match.length; i += 2) {
                if (!match[i + 1].equals(s.labels.get(match[i]))) {
                    ok = false;
                    break;
                }
            }
            if (ok) {
                out.add(s);
            }
        }
        return out;
    }

    /** The value of exactly one matching sample. */
    public double value(String name, String... match) {
        List<Sample> found = find(name, match);
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + " " + List.of(match) + ", found " + found);
        }
        return found.get(0).value();
    }

    public double sum(String name, String... match) {
        return find(name, match).stream().mapToDouble(Sample::value).sum();
    }
}
