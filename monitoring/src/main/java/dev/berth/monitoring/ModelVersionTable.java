package dev.berth.monitoring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-(model, version) state, found without allocating: one hash lookup by model name (its hash
 * is cached in the String) and a scan of that model's few versions, by number for the core's calls
 * and by label for the front ends'. Entries are created once and never replaced, so meters bound to
 * them stay registered exactly once.
 */
final class ModelVersionTable {
    interface Factory {
        VersionState create(String model, int version, String versionLabel);
    }

    private final ConcurrentHashMap<String, Versions> models = new ConcurrentHashMap<>();
    private final Factory factory;

    ModelVersionTable(Factory factory) {
        this.factory = factory;
    }

    /** The state of a numbered version, created on first use. */
    VersionState get(String model, int version) {
        Versions versions = versions(model);
        for (VersionState s : versions.entries) {
            if (s.version() == version) {
                return s;
            }
        }
        return versions.add(model, version, Integer.toString(version));
    }

    /** The state for a version label as the front ends pass it ("" when no version answered). */
    VersionState get(String model, String versionLabel) {
        Versions versions = versions(model);
        for (VersionState s : versions.entries) {
            if (s.versionLabel().equals(versionLabel)) {
                return s;
            }
        }
        int number = parseVersion(versionLabel);
        return versions.add(model, number, number > 0 ? Integer.toString(number) : versionLabel);
    }

    /** The state if it exists. */
    VersionState find(String model, int version) {
        Versions versions = models.get(model);
        if (versions == null) {
            return null;
        }
        for (VersionState s : versions.entries) {
            if (s.version() == version) {
                return s;
            }
        }
        return null;
    }

    List<VersionState> all() {
        List<VersionState> out = new ArrayList<>();
        for (Versions v : models.values()) {
            out.addAll(Arrays.asList(v.entries));
        }
        out.sort((a, b) -> a.model().equals(b.model()) ? Integer.compare(a.version(), b.version()) : a.model().compareTo(b.model()));
        return out;
    }

    List<VersionState> of(String model) {
        Versions versions = models.get(model);
        if (versions == null) {
            return List.of();
        }
        List<VersionState> out = new ArrayList<>(Arrays.asList(versions.entries));
        out.sort((a, b) -> Integer.compare(a.version(), b.version()));
        return out;
    }

    private Versions versions(String model) {
        Versions v = models.get(model);
        return v != null ? v : models.computeIfAbsent(model, m -> new Versions());
    }

    /** 0 for anything that is not a version number (such as "" for requests no version answered). */
    static int parseVersion(String label) {
        if (label == null || label.isEmpty() || label.length() > 9) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private final class Versions {
        /** Copy-on-write: readers scan without locking. */
        private volatile VersionState[] entries = new VersionState[0];

        synchronized VersionState add(String model, int version, String label) {
            for (VersionState s : entries) {
                if (s.version() == version && s.versionLabel().equals(label)) {
                    return s;
                }
            }
            VersionState created = factory.create(model, version, label);
            VersionState[] next = Arrays.copyOf(entries, entries.length + 1);
            next[entries.length] = created;
            entries = next;
            return created;
        }
    }
}
