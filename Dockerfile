# The berth server image, built the classic way: a Maven build stage, then a Java runtime that
# serves the model registry mounted at /models.
#
#   docker build -t berth .            (or: podman build -t berth .)
#   docker run -p 8080:8080 -p 8081:8081 -v "$PWD/models:/models:ro" berth     (REST on 8080, gRPC on 8081)
#
# `berth package` builds a per-model image from the same jars without this file or a daemon.
#
# BUILD_IMAGE / RUNTIME_IMAGE: any JDK 21+ / Java 21+ runtime image (the runtime stage runs no
# commands, so a runtime image without a shell works). APP_SOURCE: where /app comes from, the
# build stage below by default, or an image that already holds /app/lib (the project's test uses
# that to stay offline and fast). /app/lib holds the serve module's jar and its dependencies alone:
# what serving needs, as in an image of `berth package` (docs/packaging.md).
ARG BUILD_IMAGE=eclipse-temurin:21-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:21-jre
ARG APP_SOURCE=build

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -DskipTests package \
 && mkdir -p /app/lib \
 && cp serve/target/berth-serve-*.jar serve/target/lib/*.jar /app/lib/

FROM ${APP_SOURCE} AS app

FROM ${RUNTIME_IMAGE}
COPY --from=app /app /app
ENV PORT=8080 \
    BERTH_GRPC_PORT=8081 \
    BERTH_MODELS=/models \
    ORT_DISABLE_TELEMETRY=1
EXPOSE 8080 8081
# a numeric user, so Kubernetes' runAsNonRoot can check it; the registry is only read
USER 65532:65532
WORKDIR /app
VOLUME ["/models"]
# the heap options of `berth package`'s images (docs/packaging.md, "Heap"): sized from the container's
# memory limit; _JAVA_OPTIONS overrides them (ImageJvmOptionsTest keeps the two alike)
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "-XX:+ExitOnOutOfMemoryError", "-XX:MaxRAMPercentage=75", \
            "-cp", "/app/lib/*", "dev.berth.cli.ServeMain"]
CMD ["serve", "--models", "/models", "--host", "0.0.0.0"]
