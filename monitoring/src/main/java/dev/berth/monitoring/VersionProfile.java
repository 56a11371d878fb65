package dev.berth.monitoring;

import dev.berth.registry.FileEntry;
import dev.berth.registry.LocalRegistry;
import dev.berth.registry.ModelManifest;
import dev.berth.registry.TensorSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What the reports of a version know before any request: its inputs, their column names, and where
 * the version was registered with training data (a CSV copied into the version whose header names
 * the columns), the training distribution of each column as bins and fractions.
 */
final class VersionProfile {
    /** Training files are read up to this many rows; beyond that the first rows stand for the file. */
    static final int MAX_TRAINING_ROWS = 200_000;
    private static final System.Logger LOG = System.getLogger(VersionProfile.class.getName());

    static final VersionProfile EMPTY = new VersionProfile(List.of(), null, 0);

    private final List<InputProfile> inputs;
    private final String trainingData;
    private final int trainingRows;

    VersionProfile(List<InputProfile> inputs, String trainingData, int trainingRows) {
        this.inputs = List.copyOf(inputs);
        this.trainingData = trainingData;
        this.trainingRows = trainingRows;
    }

    List<InputProfile> inputs() {
        return inputs;
    }

    /** Path of the training data file in the version folder, or null. */
    String trainingData() {
        return trainingData;
    }

    int trainingRows() {
        return trainingRows;
    }

    /**
     * One input. {@code columns} is non-empty for a rank-2 input whose signature names its columns;
     * {@code columnBins[i]} and {@code trainingFractions[i]} describe column i ({@code trainingFractions[i]}
     * null where the training data lacks the column).
     */
    record InputProfile(String name, String datatype, List<String> columns, Bins[] columnBins, double[][] trainingFractions) {
        static InputProfile generic(String name, String datatype) {
            return new InputProfile(name, datatype, List.of(), new Bins[0], new double[0][]);
        }
    }

    /** Reads the profile from the registry; a version without manifest, signature or usable training data gets what is there. Never throws. */
    static VersionProfile load(LocalRegistry registry, String model, int version) {
        try {
            ModelManifest manifest = registry.storedManifest(model, version).orElse(null);
            if (manifest == null || manifest.signature() == null) {
                return EMPTY;
            }
            Path dir = registry.versionDir(model, version);
            List<String> candidates = candidateFiles(manifest);
            List<InputProfile> inputs = new ArrayList<>();
            String usedFile = null;
            int usedRows = 0;
            for (TensorSpec spec : manifest.signature().inputs()) {
                List<String> columns = spec.columns();
                boolean columnar = !columns.isEmpty() && spec.rank() == 2
                        && (spec.shape().get(1) < 0 || spec.shape().get(1) == columns.size());
                if (!columnar) {
                    inputs.add(InputProfile.generic(spec.name(), spec.datatype().name()));
                    continue;
                }
                Bins[] bins = new Bins[columns.size()];
                double[][] fractions = new double[columns.size()][];
                Arrays.fill(bins, Bins.generic());
                Training training = bestTraining(dir, candidates, columns);
                if (training != null) {
                    for (int c = 0; c < columns.size(); c++) {
                        double[] values = training.columns[c];
                        if (values != null && values.length > 0) {
                            double[] sorted = values.clone();
                            Arrays.sort(sorted);
                            bins[c] = Bins.fittedTo(sorted);
                            fractions[c] = bins[c].fractions(values);
                        }
                    }
                    usedFile = training.file;
                    usedRows = training.rows;
                }
                inputs.add(new InputProfile(spec.name(), spec.datatype().name(), List.copyOf(columns), bins, fractions));
            }
            return new VersionProfile(inputs, usedFile, usedRows);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "no input profile for " + model + ":" + version + ": " + e.getMessage());
            return EMPTY;
        }
    }

    /** CSV files the version holds: its lineage data first, then other artifacts. */
    private static List<String> candidateFiles(ModelManifest manifest) {
        Set<String> files = new LinkedHashSet<>();
        for (ModelManifest.DataRef ref : manifest.lineage().data()) {
            if (ref.path() != null && ref.path().toLowerCase(Locale.ROOT).endsWith(".csv")) {
                files.add(ref.path());
            }
        }
        for (FileEntry artifact : manifest.artifacts()) {
            if (artifact.path().toLowerCase(Locale.ROOT).endsWith(".csv")) {
                files.add(artifact.path());
            }
        }
        return List.copyOf(files);
    }

    private record Training(String file, int rows, double[][] columns) {
    }

    /** The candidate whose header names most of the columns (at least one), read for those columns. */
    private static Training bestTraining(Path dir, List<String> candidates, List<String> columns) {
        String best = null;
        int[] bestIndex = null;
        int bestMatches = 0;
        for (String candidate : candidates) {
            Path file = dir.resolve(candidate).normalize();
            if (!file.startsWith(dir) || !Files.isRegularFile(file)) {
                continue;
            }
            try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String header = in.readLine();
                if (header == null) {
                    continue;
                }
                List<String> names = Csv.split(header.startsWith("\uFEFF") ? header.substring(1) : header);
                int[] index = new int[columns.size()];
                int matches = 0;
                for (int c = 0; c < columns.size(); c++) {
                    index[c] = names.indexOf(columns.get(c));
                    if (index[c] >= 0) {
                        matches++;
                    }
                }
                if (matches > bestMatches) {
                    best = candidate;
                    bestIndex = index;
                    bestMatches = matches;
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "skipping unreadable training file " + file + ": " + e.getMessage());
            }
        }
        if (best == null) {
            return null;
        }
        return read(dir.resolve(best), best, bestIndex);
    }

    private static Training read(Path file, String name, int[] index) {
        int k = index.length;
        double[][] values = new double[k][1024];
        int[] filled = new int[k];
        int rows = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            in.readLine();
            String line;
            while (rows < MAX_TRAINING_ROWS && (line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                List<String> cells = Csv.split(line);
                rows++;
                for (int c = 0; c < k; c++) {
                    if (index[c] < 0 || index[c] >= cells.size()) {
                        continue;
                    }
                    double v;
                    try {
                        v = Double.parseDouble(cells.get(index[c]).trim());
                    } catch (NumberFormatException e) {
                        continue;
                    }
                    if (Double.isFinite(v)) {
                        if (filled[c] == values[c].length) {
                            values[c] = Arrays.copyOf(values[c], values[c].length * 2);
                        }
                        values[c][filled[c]++] = v;
                    }
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read training data " + file + ": " + e.getMessage());
            return null;
        }
        double[][] out = new double[k][];
        for (int c = 0; c < k; c++) {
            out[c] = index[c] < 0 || filled[c] == 0 ? null : Arrays.copyOf(values[c], filled[c]);
        }
        return new Training(name, rows, out);
    }
}
