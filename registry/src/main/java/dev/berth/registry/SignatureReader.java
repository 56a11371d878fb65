package dev.berth.registry;

import java.nio.file.Path;

/**
 * Reads the signature of a model file. The registry does not know ONNX Runtime; the runtime
 * module supplies the implementation and the command line hands it to the registry.
 */
@FunctionalInterface
public interface SignatureReader {
    /**
     * @throws InvalidModelException when the file is not a loadable model
     */
    Signature read(Path modelFile);
}
