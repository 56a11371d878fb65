package dev.berth.registry;

import java.util.List;
import java.util.Optional;

/** The inputs and outputs of a model version, in the order the model declares them. */
public record Signature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    public Signature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The input called {@code name}, if the model has one. */
    public Optional<TensorSpec> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** The output called {@code name}, if the model has one. */
    public Optional<TensorSpec> output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
