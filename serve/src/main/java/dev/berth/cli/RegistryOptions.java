package dev.berth.cli;

import dev.berth.oci.Credentials;
import dev.berth.oci.OciClient;
import dev.berth.oci.OciReference;
import picocli.CommandLine.Option;

/** The options every command that talks to an OCI registry shares (mixin). */
final class RegistryOptions {
    @Option(names = "--insecure-registry", description = "Allow plain HTTP to a registry on a loopback address.")
    boolean insecure;

    /** A client for the registry of {@code ref}, with the credentials the Docker config file gives. */
    OciClient client(OciReference ref) {
        return OciClient.create(ref, insecure, Credentials.lookup(ref.registry(), System.getenv()));
    }
}
