(ns vireo.bench.observed
  "The observability libraries for the `vireo-observed` system, loaded only
  when it is selected (the :bench-observe alias puts them on the classpath)."
  (:import (io.micrometer.core.instrument.simple SimpleMeterRegistry)
           (io.opentelemetry.sdk OpenTelemetrySdk)
           (io.opentelemetry.sdk.common CompletableResultCode)
           (io.opentelemetry.sdk.trace SdkTracerProvider)
           (io.opentelemetry.sdk.trace.export BatchSpanProcessor SpanExporter)
           (java.util.concurrent TimeUnit)))

(set! *warn-on-reflection* true)

(defn registry
  "A Micrometer registry keeping every meter in memory."
  []
  (SimpleMeterRegistry.))

(defn open-telemetry
  "[OpenTelemetry shutdown-fn]: an SDK whose spans go through a batch
  processor to an exporter that drops them."
  []
  (let [exporter (reify SpanExporter
                   (export [_ _] (CompletableResultCode/ofSuccess))
                   (flush [_] (CompletableResultCode/ofSuccess))
                   (shutdown [_] (CompletableResultCode/ofSuccess)))
        provider (-> (SdkTracerProvider/builder)
                     (.addSpanProcessor (.build (BatchSpanProcessor/builder exporter)))
                     (.build))
        otel (-> (OpenTelemetrySdk/builder) (.setTracerProvider provider) (.build))]
    [otel (fn [] (.join (.shutdown provider) 10 TimeUnit/SECONDS))]))
