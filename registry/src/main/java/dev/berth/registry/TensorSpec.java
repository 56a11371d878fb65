package dev.berth.registry;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One input or output of a model: its name, datatype and shape (-1 marks a dynamic axis,
 * an empty shape a scalar). Column names and class labels are optional enrichments from a
 * supplied signature; they are empty lists when unknown.
 */
public record TensorSpec(String name, DataType datatype, List<Long> shape, List<String> columns, List<String> labels) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        shape = List.copyOf(shape);
        columns = columns == null ? List.of() : List.copyOf(columns);
        labels = labels == null ? List.of() : List.copyOf(labels);
    }

    /** A tensor without column names or class labels; a negative size in {@code shape} marks a dynamic axis. */
    public static TensorSpec of(String name, DataType datatype, long... shape) {
        return new TensorSpec(name, datatype, Arrays.stream(shape).boxed().toList(), List.of(), List.of());
    }

    /** The number of axes. */
    public int rank() {
        return shape.size();
    }

    /** True when the first axis is dynamic, so requests can be stacked into one batch. */
    public boolean hasDynamicBatchAxis() {
        return !shape.isEmpty() && shape.get(0) < 0;
    }

    /** A copy with other column names and class labels. */
    public TensorSpec withColumnsAndLabels(List<String> newColumns, List<String> newLabels) {
        return new TensorSpec(name, datatype, shape, newColumns, newLabels);
    }
}
