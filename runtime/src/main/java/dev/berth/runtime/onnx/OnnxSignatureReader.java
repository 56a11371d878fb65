package dev.berth.runtime.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.berth.registry.DataType;
import dev.berth.registry.InvalidModelException;
import dev.berth.registry.Signature;
import dev.berth.registry.SignatureReader;
import dev.berth.registry.TensorSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads a model's signature by opening it in ONNX Runtime (graph optimisation off: only the metadata is wanted). */
public final class OnnxSignatureReader implements SignatureReader {
    @Override
    public Signature read(Path modelFile) {
        if (!Files.isRegularFile(modelFile)) {
            throw new InvalidModelException("no model file at " + modelFile);
        }
        OrtEnvironment env = OrtNatives.environment();
        try (OrtSession.SessionOptions options = OrtSessionOptions.forInspection();
             OrtSession session = env.createSession(modelFile.toString(), options)) {
            return signatureOf(session);
        } catch (OrtException e) {
            throw new InvalidModelException(modelFile + " is not a loadable ONNX model: " + RunFailures.firstLine(e.getMessage()), e);
        }
    }

    /** The signature of an open session, in the model's declared order. */
    public static Signature signatureOf(OrtSession session) throws OrtException {
        return new Signature(specs(session.getInputNames(), session.getInputInfo()),
                specs(session.getOutputNames(), session.getOutputInfo()));
    }

    private static List<TensorSpec> specs(Set<String> orderedNames, Map<String, NodeInfo> infos) {
        List<TensorSpec> specs = new ArrayList<>();
        for (String name : orderedNames) {
            NodeInfo node = infos.get(name);
            if (!(node.getInfo() instanceof TensorInfo tensor)) {
                throw new InvalidModelException("'" + name + "' is not a tensor (" + node.getInfo() + "); berth serves tensor inputs and outputs only");
            }
            DataType type = OnnxTypes.toDataType(tensor.onnxType).orElseThrow(() ->
                    new InvalidModelException("'" + name + "' has element type " + tensor.onnxType + ", which the inference protocol cannot carry"));
            specs.add(TensorSpec.of(name, type, Arrays.stream(tensor.getShape()).map(d -> d < 0 ? -1 : d).toArray()));
        }
        return specs;
    }
}
