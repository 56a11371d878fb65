package dev.berth.bench;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} pairs of the bench tools' command lines. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String name = args.get(i);
            if (!name.startsWith("--") || i + 1 >= args.size()) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + name + "'");
            }
            values.put(name, args.get(++i));
        }
    }

    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing " + name);
        }
        return v;
    }

    String optional(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }
}
