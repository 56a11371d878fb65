package dev.berth.monitoring;

/**
 * Everything kept per (model, version): each concern's meters, and the report accumulator while the
 * version is served. Version 0 (label "") collects requests that no version answered; it has only
 * request meters.
 */
final class VersionState {
    private final String model;
    private final int version;
    private final String versionLabel;
    private final RequestMeterBinder.Meters requestMeters;
    private final InferenceMeterBinder.Meters inferenceMeters;
    private final ModelMeterBinder.Meters modelMeters;
    private final ReportMeterBinder.Meters reportMeters;
    /** Non-null while reports are collected for this version. */
    volatile VersionReports reports;
    /** Set when the core unloaded the version on purpose, so a late request does not reopen its reports. */
    volatile boolean unloaded;

    VersionState(String model, int version, String versionLabel, RequestMeterBinder requests, InferenceMeterBinder inference,
                 ModelMeterBinder models, ReportMeterBinder reportBinder) {
        this.model = model;
        this.version = version;
        this.versionLabel = versionLabel;
        this.requestMeters = requests.metersFor(model, versionLabel);
        boolean real = version > 0;
        this.inferenceMeters = real ? inference.metersFor(model, versionLabel) : null;
        this.modelMeters = real ? models.metersFor(model, versionLabel) : null;
        this.reportMeters = real ? reportBinder.metersFor(model, versionLabel) : null;
    }

    String model() {
        return model;
    }

    int version() {
        return version;
    }

    String versionLabel() {
        return versionLabel;
    }

    RequestMeterBinder.Meters requestMeters() {
        return requestMeters;
    }

    InferenceMeterBinder.Meters inferenceMeters() {
        return inferenceMeters;
    }

    ModelMeterBinder.Meters modelMeters() {
        return modelMeters;
    }

    ReportMeterBinder.Meters reportMeters() {
        return reportMeters;
    }
}
