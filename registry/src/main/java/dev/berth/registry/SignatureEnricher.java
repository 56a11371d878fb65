package dev.berth.registry;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Merges a supplied signature (column names, class labels) into the one read from the model. The
 * model's graph stays the authority on names, types and shapes: a supplied signature that disagrees
 * with it is refused rather than recorded, since it would describe a different model.
 */
final class SignatureEnricher {
    private SignatureEnricher() {
    }

    static Signature enrich(Signature fromModel, JsonNode supplied, String source) {
        if (!supplied.isObject()) {
            throw new InvalidArgumentException("signature in " + source + " must be a JSON object with inputs and outputs");
        }
        return new Signature(merge(fromModel.inputs(), supplied.path("inputs"), "input", source),
                merge(fromModel.outputs(), supplied.path("outputs"), "output", source));
    }

    private static List<TensorSpec> merge(List<TensorSpec> model, JsonNode supplied, String kind, String source) {
        if (supplied.isMissingNode() || supplied.isNull()) {
            return model;
        }
        if (!supplied.isArray()) {
            throw new InvalidArgumentException("signature in " + source + ": '" + kind + "s' must be a list");
        }
        List<TensorSpec> result = new ArrayList<>(model);
        for (JsonNode spec : supplied) {
            String name = spec.path("name").asText("");
            int index = indexOf(model, name);
            if (index < 0) {
                throw new InvalidArgumentException("signature in " + source + " names " + kind + " '" + name
                        + "', which the model does not have (model " + kind + "s: "
                        + model.stream().map(TensorSpec::name).toList() + ")");
            }
            TensorSpec actual = model.get(index);
            if (spec.has("datatype")) {
                Optional<DataType> type = DataType.parse(spec.get("datatype").asText());
                if (type.isEmpty() || type.get() != actual.datatype()) {
                    throw new InvalidArgumentException("signature in " + source + " gives " + kind + " '" + name + "' datatype "
                            + spec.get("datatype").asText() + " but the model has " + actual.datatype());
                }
            }
            if (spec.has("shape")) {
                List<Long> shape = new ArrayList<>();
                spec.get("shape").forEach(d -> shape.add(d.isNumber() ? d.asLong() : -1L));
                if (!shape.equals(actual.shape())) {
                    throw new InvalidArgumentException("signature in " + source + " gives " + kind + " '" + name + "' shape "
                            + shape + " but the model has " + actual.shape());
                }
            }
            List<String> columns = strings(spec.path("columns"), source, name, "columns");
            List<String> labels = strings(spec.has("labels") ? spec.get("labels") : spec.path("classes"), source, name, "labels");
            long width = actual.rank() == 0 ? -1 : actual.shape().get(actual.rank() - 1);
            if (!columns.isEmpty() && width > 0 && columns.size() != width) {
                throw new InvalidArgumentException("signature in " + source + " names " + columns.size() + " columns for '" + name
                        + "', whose last axis has " + width);
            }
            if (!labels.isEmpty() && width > 0 && actual.rank() > 1 && labels.size() != width) {
                throw new InvalidArgumentException("signature in " + source + " names " + labels.size() + " class labels for '" + name
                        + "', whose last axis has " + width);
            }
            result.set(index, actual.withColumnsAndLabels(
                    columns.isEmpty() ? actual.columns() : columns, labels.isEmpty() ? actual.labels() : labels));
        }
        return result;
    }

    private static int indexOf(List<TensorSpec> specs, String name) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> strings(JsonNode node, String source, String tensor, String field) {
        if (node.isMissingNode() || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new InvalidArgumentException("signature in " + source + ": '" + field + "' of '" + tensor + "' must be a list of names");
        }
        List<String> out = new ArrayList<>();
        node.forEach(n -> out.add(n.asText()));
        return out;
    }
}
