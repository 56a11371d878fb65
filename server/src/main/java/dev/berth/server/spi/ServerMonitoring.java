package dev.berth.server.spi;

import dev.berth.runtime.InferenceObserver;

/**
 * What a server's monitoring does for it, declared by the server and implemented by monitoring
 * ({@code dev.berth.monitoring.BerthMetrics}): hear about every request (from the core as its
 * {@link InferenceObserver}, from both front ends as their {@link RequestMetrics}), answer
 * {@code GET /metrics}, and give Triton's statistics to both front ends. Handed to
 * {@code BerthServer.Builder#monitoring}; a server without one answers neither endpoint.
 */
public interface ServerMonitoring extends RequestMetrics, InferenceObserver {
    /**
     * The meters in the exposition format the client's Accept header asks for.
     *
     * @param acceptHeader the request's Accept header, or null
     */
    Scrape scrape(String acceptHeader);

    /**
     * Statistics of every version of every model when {@code model} is null, of every version of
     * {@code model} when {@code version} is null, else of that version.
     *
     * @throws dev.berth.runtime.InferenceException.NotFound when the model has no statistics (never
     *                                                       loaded) or the version has none
     */
    TritonStats statistics(String model, String version);
}
