package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"

	"github.com/gantry-dev/gantry/rollout"
)

var (
	openFilesDesc = prometheus.NewDesc("gantry_instance_open_files",
		"File descriptors an instance's processes hold (local instances: /proc/PID/fd); absent when the backend does not know.", instanceLabels, nil)
	diskReadDesc = prometheus.NewDesc("gantry_instance_disk_read_bytes_total",
		"Bytes an instance's live processes caused to be read from storage (local instances: /proc/PID/io read_bytes); absent when the backend does not know.", instanceLabels, nil)
	diskWrittenDesc = prometheus.NewDesc("gantry_instance_disk_written_bytes_total",
		"Bytes an instance's live processes caused to be written to storage (local instances: /proc/PID/io write_bytes); absent when the backend does not know.", instanceLabels, nil)

	hostReceiveDesc = prometheus.NewDesc("gantry_host_network_receive_bytes_total",
		"Bytes the host running gantry received, per network device (/proc/net/dev).", []string{"device"}, nil)
	hostTransmitDesc = prometheus.NewDesc("gantry_host_network_transmit_bytes_total",
		"Bytes the host running gantry sent, per network device (/proc/net/dev).", []string{"device"}, nil)
)

// instanceFileDescs are the descriptors collectInstanceFiles reports.
var instanceFileDescs = []*prometheus.Desc{openFilesDesc, diskReadDesc, diskWrittenDesc}

// collectInstanceFiles reports what the backend knows of an instance's
// open files and disk I/O; nothing it does not know.
func collectInstanceFiles(ch chan<- prometheus.Metric, in rollout.Instance, lv []string) {
	if in.OpenFiles != nil {
		ch <- prometheus.MustNewConstMetric(openFilesDesc, prometheus.GaugeValue, float64(*in.OpenFiles), lv...)
	}
	if in.DiskReadBytes != nil {
		ch <- prometheus.MustNewConstMetric(diskReadDesc, prometheus.CounterValue, float64(*in.DiskReadBytes), lv...)
	}
	if in.DiskWriteBytes != nil {
		ch <- prometheus.MustNewConstMetric(diskWrittenDesc, prometheus.CounterValue, float64(*in.DiskWriteBytes), lv...)
	}
}

// hostCollector reports the host's network throughput at scrape time;
// nothing where /proc/net/dev cannot be read.
type hostCollector struct{}

// Describe implements prometheus.Collector.
func (hostCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- hostReceiveDesc
	ch <- hostTransmitDesc
}

// Collect implements prometheus.Collector.
func (hostCollector) Collect(ch chan<- prometheus.Metric) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return
	}
	dev, err := fs.NetDev()
	if err != nil {
		return
	}
	for name, d := range dev {
		ch <- prometheus.MustNewConstMetric(hostReceiveDesc, prometheus.CounterValue, float64(d.RxBytes), name)
		ch <- prometheus.MustNewConstMetric(hostTransmitDesc, prometheus.CounterValue, float64(d.TxBytes), name)
	}
}
