package dev.berth.runtime.onnx;

import dev.berth.registry.ServingLayout;

import java.io.IOException;
import java.util.Optional;

/** Where a version's measured layout is kept between loads: the registry's {@code serving-layout.json} beside it. */
interface LayoutStore {
    /** The layout measured earlier, if one was written. */
    Optional<ServingLayout> read();

    /** Keeps a new measurement; a registry that cannot be written to fails with an IOException (the layout is still used). */
    void write(ServingLayout layout) throws IOException;

    /** Nothing kept: every load with {@code layout: auto} measures. */
    LayoutStore NONE = new LayoutStore() {
        @Override
        public Optional<ServingLayout> read() {
            return Optional.empty();
        }

        @Override
        public void write(ServingLayout layout) {
        }
    };
}
