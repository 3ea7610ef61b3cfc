package spec

// APIVersion is the apiVersion every gantry.yaml document declares.
const APIVersion = "gantry.dev/v1"

// KindApp is the kind of the document that describes one application.
const KindApp = "App"

// App is one gantry.yaml document: an application, how it runs, how it is
// rolled out, and the environments it is deployed to.
type App struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       AppSpec  `json:"spec"`
	// Environments lists where the app is deployed, in promotion order
	// (for example development, staging, production).
	Environments []Environment `json:"environments,omitempty"`
	// Hooks are the commands and webhooks environments' policies run at
	// pre-rollout, post-rollout and on rollback (policy.go). Empty: none.
	Hooks []Hook `json:"hooks,omitempty"`
	// ReleaseNotes says where a release's notes come from; nil: none.
	ReleaseNotes *ReleaseNotes `json:"releaseNotes,omitempty"`
}

// Metadata names the app.
type Metadata struct {
	// Name is a DNS-label style name (lowercase letters, digits, '-'), at most 63 characters.
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// AppSpec is how the app runs and is rolled out. A Revision stores the
// AppSpec resolved for one environment (overrides applied, defaults set).
type AppSpec struct {
	// Replicas is the number of instances to run. Default 3.
	Replicas *int `json:"replicas,omitempty"`
	// Workload says what one instance runs.
	Workload Workload `json:"workload"`
	// Resources are the instance's requests and limits, Kubernetes-style.
	Resources Resources `json:"resources,omitempty"`
	// LivenessProbe restarts an instance that fails it. Nil: no liveness probe.
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe gates traffic to an instance. Nil: ready once started.
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// Strategy says how a new revision replaces the old one.
	Strategy Strategy `json:"strategy,omitempty"`
	// MinReadySeconds is how long an instance must be ready before it counts
	// as available. Default 0.
	MinReadySeconds int `json:"minReadySeconds,omitempty"`
	// ProgressDeadlineSeconds is how long a rollout may go without progress
	// before it is rolled back. Default 600.
	ProgressDeadlineSeconds *int `json:"progressDeadlineSeconds,omitempty"`
	// RevisionHistoryLimit is how many old revisions are kept for undo. Default 10.
	RevisionHistoryLimit *int `json:"revisionHistoryLimit,omitempty"`
	// TerminationGracePeriodSeconds is how long an instance has between SIGTERM
	// and SIGKILL. Default 30.
	TerminationGracePeriodSeconds *int `json:"terminationGracePeriodSeconds,omitempty"`
	// Analysis tunes the checks that watch a canary or a blue-green release
	// and roll it back; a RollingUpdate ignores it. Nil: every check on with
	// the plan's values.
	Analysis *AnalysisSpec `json:"analysis,omitempty"`
	// Metrics says how gantry labels the app's metrics (route templates).
	// Nil: no per-route counters.
	Metrics *MetricsSpec `json:"metrics,omitempty"`
	// Database is the PostgreSQL database the app owns, migrated as part of
	// every rollout. Nil: the app has none.
	Database *Database `json:"database,omitempty"`
	// Kubernetes is where and how the app runs on the kubernetes backend
	// (namespace, pod extras, router). Nil: the defaults.
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
}

// AnalysisSpec tunes the rollback triggers and the canary-versus-baseline
// statistics. Zero fields take the defaults shown.
type AnalysisSpec struct {
	// MaxUnhealthyPercent: roll back when more than this percentage (0 to
	// 100) of the new revision's instances is unhealthy. Default 10.
	MaxUnhealthyPercent *int `json:"maxUnhealthyPercent,omitempty"`
	// MaxErrorPercent: roll back when the new revision's 5xx share over the
	// last minute is above this percentage (above 0, at most 100). Default 5.
	MaxErrorPercent *float64 `json:"maxErrorPercent,omitempty"`
	// MaxLatencyRatio: roll back when the new revision's p95 latency is above
	// this multiple of the stable revision's. Default 2.
	MaxLatencyRatio *float64 `json:"maxLatencyRatio,omitempty"`
	// Alpha is the false-rollback budget of the sequential tests over one
	// rollout (0 < alpha ≤ 0.5). Default 0.01.
	Alpha *float64 `json:"alpha,omitempty"`
	// MinRequests is how many requests the canary must serve in a step
	// before it can be promoted past it (1 to 10,000,000). Default 500.
	MinRequests *int `json:"minRequests,omitempty"`
	// ErrorMarginPercent is the smallest increase of the new revision's
	// error rate over the stable revision's, in percent, that the error
	// test rolls back for (0 to 1,000; 0: any increase). Default 25.
	ErrorMarginPercent *float64 `json:"errorMarginPercent,omitempty"`
	// LatencyMarginPercent and LatencyMarginMs are how much slower the new
	// revision's p95 may be than the stable revision's before the latency
	// test rolls back: it must be both more than this percentage and more
	// than these milliseconds slower (0 to 1,000 each; 0: no margin).
	// Defaults 10 and 5.
	LatencyMarginPercent *float64 `json:"latencyMarginPercent,omitempty"`
	LatencyMarginMs      *float64 `json:"latencyMarginMs,omitempty"`
	// WarmUpRequests and WarmUpSeconds: an instance's first requests, and
	// those in its first seconds after it became ready, are not compared
	// (0 to 1,000,000 and 0 to 3,600; 0: none). Defaults 100 and 10.
	WarmUpRequests *int     `json:"warmUpRequests,omitempty"`
	WarmUpSeconds  *float64 `json:"warmUpSeconds,omitempty"`
	// Baseline is what a canary is compared with: BaselineLikeForLike
	// (the default) starts fresh instances of the stable revision beside the
	// canary, as many and with the same weight, and compares the canary with
	// them; BaselinePrimary compares it with the stable revision's serving
	// instances and starts none. Other strategies compare with the stable
	// revision's instances whatever it says.
	Baseline string `json:"baseline,omitempty"`
	// Disabled names checks to turn off, each once, from AnalysisChecks:
	// UnhealthyInstances, ErrorRate, LatencyRatio, Memory, CPU, Dependency,
	// ErrorTest, LatencyTest, ErrorEvidence, LatencyEvidence. Empty: all on.
	Disabled []string `json:"disabled,omitempty"`
	// AbortOnAlerts names alerting rules of the server's rule files
	// (gantry server --alert-rules) that abort a rollout of this
	// environment while one of their alerts fires for the new revision
	// (labels app and env equal, and revision or version the new one's).
	// Empty: alerts never abort rollouts.
	AbortOnAlerts []string `json:"abortOnAlerts,omitempty"`
	// Checks are user-defined PromQL checks, extra rollback triggers: a
	// rollout of this environment is aborted when one fails (QueryCheck).
	// Empty: none.
	Checks []QueryCheck `json:"checks,omitempty"`
}

// Workload is what one instance runs. Command, Args, Env values and
// WorkingDir may use the placeholders {{.Version}}, {{.Port}}, {{.App}},
// {{.Env}}, {{.Instance}} and {{.Revision}}.
type Workload struct {
	// Command is the program to run (local backend). Required for local environments.
	Command string `json:"command,omitempty"`
	// Args are the program's arguments.
	Args []string `json:"args,omitempty"`
	// Env is extra environment for the instance.
	Env []EnvVar `json:"env,omitempty"`
	// WorkingDir is the instance's working directory; empty: the spec file's directory.
	WorkingDir string `json:"workingDir,omitempty"`
	// Image is the container image (Kubernetes backend); may use {{.Version}}.
	Image string `json:"image,omitempty"`
	// Port is the port the instance serves on inside its container (Kubernetes)
	// or the name given to the assigned port (local backend, where {{.Port}} is
	// a free loopback port chosen by gantry). Default 8080.
	Port int `json:"port,omitempty"`
}

// EnvVar is one environment variable, as in a Kubernetes container: a
// literal Value (kept in gantry's state and shown by the API), or a secret
// by reference in ValueFrom (only the reference is kept; the value is read
// when an instance starts).
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// ValueFrom names where the secret value is; nil: Value is the value.
	ValueFrom *ValueFrom `json:"valueFrom,omitempty"`
}

// Resources are Kubernetes-style requests and limits.
type Resources struct {
	Requests ResourceList `json:"requests,omitempty"`
	Limits   ResourceList `json:"limits,omitempty"`
}

// ResourceList holds quantities in Kubernetes notation ("512Mi", "500m").
// The parsed values are filled in by Parse.
type ResourceList struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
	// MemoryBytes is Memory parsed; 0 means unset.
	MemoryBytes int64 `json:"-"`
	// CPUMillis is CPU parsed, in thousandths of a core; 0 means unset.
	CPUMillis int64 `json:"-"`
}

// Probe is a Kubernetes-style probe. Zero fields take Kubernetes' defaults
// (periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3).
type Probe struct {
	HTTPGet             *HTTPGetAction `json:"httpGet,omitempty"`
	InitialDelaySeconds int            `json:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int            `json:"periodSeconds,omitempty"`
	TimeoutSeconds      int            `json:"timeoutSeconds,omitempty"`
	SuccessThreshold    int            `json:"successThreshold,omitempty"`
	FailureThreshold    int            `json:"failureThreshold,omitempty"`
}

// HTTPGetAction probes with an HTTP GET; a status in [200,400) passes.
type HTTPGetAction struct {
	Path string `json:"path,omitempty"`
	// Port defaults to the workload's port. On the local backend the
	// workload's port maps to the instance's assigned port.
	Port   int    `json:"port,omitempty"`
	Scheme string `json:"scheme,omitempty"`
}

// StrategyType names a rollout strategy.
type StrategyType string

// The strategies gantry knows.
const (
	RollingUpdate StrategyType = "RollingUpdate"
	Canary        StrategyType = "Canary"
	BlueGreen     StrategyType = "BlueGreen"
)

// Strategy says how a new revision replaces the old one. Type defaults to RollingUpdate.
type Strategy struct {
	Type          StrategyType           `json:"type,omitempty"`
	RollingUpdate *RollingUpdateStrategy `json:"rollingUpdate,omitempty"`
	Canary        *CanaryStrategy        `json:"canary,omitempty"`
	BlueGreen     *BlueGreenStrategy     `json:"blueGreen,omitempty"`
}

// RollingUpdateStrategy mirrors Kubernetes' Deployment rolling update.
type RollingUpdateStrategy struct {
	// MaxSurge is how many instances may run above Replicas; percent rounds up. Default 1.
	MaxSurge *IntOrString `json:"maxSurge,omitempty"`
	// MaxUnavailable is how many instances may be unavailable; percent rounds down. Default 0.
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
}

// CanaryStrategy is Argo Rollouts' canary vocabulary.
type CanaryStrategy struct {
	Steps []CanaryStep `json:"steps,omitempty"`
}

// CanaryStep is one step: exactly one field is set.
type CanaryStep struct {
	// SetWeight sends this percentage of traffic to the canary.
	SetWeight *int `json:"setWeight,omitempty"`
	// Pause waits; with no duration it waits for `rollout promote`.
	Pause *PauseStep `json:"pause,omitempty"`
	// SetFlag sets a feature flag's rollout percentage in the rollout's
	// environment; rolling the rollout back restores the flag.
	SetFlag *SetFlagStep `json:"setFlag,omitempty"`
}

// SetFlagStep sets the rollout percentage of a feature flag of the
// rollout's environment (docs/flags.md); the flag must exist and have a
// rollout (rollout: {variant: on, percentage: 0}).
type SetFlagStep struct {
	// Name is the flag's key, such as new-ai-agent.
	Name string `json:"name"`
	// Percentage is the share of targeting keys the flag's rollout
	// variant reaches, 0 to 100.
	Percentage float64 `json:"percentage"`
}

// PauseStep pauses a canary.
type PauseStep struct {
	// Duration such as "30s" or "5m"; empty waits until promoted.
	Duration string `json:"duration,omitempty"`
}

// BlueGreenStrategy deploys green beside blue and switches traffic at once.
type BlueGreenStrategy struct {
	// PreviewListen is the address green is reachable on before the switch.
	PreviewListen string `json:"previewListen,omitempty"`
	// AutoPromotion switches traffic once smoke tests pass. Default true.
	AutoPromotion *bool `json:"autoPromotion,omitempty"`
	// ScaleDownDelaySeconds keeps blue running after the switch. Default 30.
	ScaleDownDelaySeconds *int `json:"scaleDownDelaySeconds,omitempty"`
	// SmokeTests run against green on the preview listener before the
	// switch; one failing rolls the release back.
	SmokeTests []SmokeTest `json:"smokeTests,omitempty"`
}

// SmokeTest is one check of a blue-green release before its switch: an HTTP
// request to the preview listener (Path set), or a command (Command set)
// that gets the preview URL in GANTRY_PREVIEW_URL and passes on exit 0.
type SmokeTest struct {
	// Name labels the check in events; default: the method and path, or the command.
	Name string `json:"name,omitempty"`
	// Method is the HTTP method, in capitals (GET, HEAD, POST, PUT, PATCH,
	// DELETE or OPTIONS); only with Path. Default GET.
	Method string `json:"method,omitempty"`
	// Path is requested on the preview listener, such as /health. Exactly
	// one of Path and Command is set.
	Path string `json:"path,omitempty"`
	// Body is sent with the request; only with Path.
	Body string `json:"body,omitempty"`
	// ExpectStatus is the status that passes (100 to 599); only with Path.
	// Default 200.
	ExpectStatus int `json:"expectStatus,omitempty"`
	// ExpectBody, when set, must appear in the response body; only with Path.
	ExpectBody string `json:"expectBody,omitempty"`
	// Command is a program and its arguments; the first element is required.
	Command []string `json:"command,omitempty"`
	// TimeoutSeconds bounds the check (0 to 3600; 0 means the default). Default 10.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// Environment is one place the app is deployed to.
type Environment struct {
	// Name such as development, staging or production.
	Name string `json:"name"`
	// Backend runs the instances: "local" (default) or "kubernetes".
	Backend string `json:"backend,omitempty"`
	// Proxy is gantry's traffic proxy for this environment.
	Proxy ProxyConfig `json:"proxy,omitempty"`
	// Replicas overrides spec.replicas here.
	Replicas *int `json:"replicas,omitempty"`
	// Env adds to (or replaces by name) the workload's environment here.
	Env []EnvVar `json:"env,omitempty"`
	// Resources overrides spec.resources here, field by field.
	Resources *Resources `json:"resources,omitempty"`
	// Strategy overrides spec.strategy here.
	Strategy *Strategy `json:"strategy,omitempty"`
	// Database overrides spec.database here, field by field (url as a whole).
	Database *Database `json:"database,omitempty"`
	// Kubernetes overrides spec.kubernetes here, field by field.
	Kubernetes *Kubernetes `json:"kubernetes,omitempty"`
	// PromoteFrom names the environment a version must have succeeded in
	// (with the same applied spec) before it may be deployed here, such as
	// staging; gantry promote and pipeline runs follow it. Empty: none.
	PromoteFrom string `json:"promoteFrom,omitempty"`
	// Policy is who may change this environment, when, and what is checked
	// first; nil: no gates beyond the default four-eyes rule on promote in
	// an environment named production (see EnvironmentPolicy).
	Policy *EnvironmentPolicy `json:"policy,omitempty"`
}

// ProxyConfig configures gantry's proxy for one environment.
type ProxyConfig struct {
	// Listen is the address the proxy listens on, such as "127.0.0.1:8080".
	// Empty or port 0: a free loopback port is picked.
	Listen string `json:"listen,omitempty"`
	// StickyCookie, when set, pins a client to one revision by this cookie.
	StickyCookie string `json:"stickyCookie,omitempty"`
	// Timeouts overrides the proxy's nginx-like timeouts; unset ones keep
	// their defaults.
	Timeouts ProxyTimeouts `json:"timeouts,omitempty"`
	// MaxConnections caps the client connections served at once; beyond
	// it idle keep-alive connections are closed, else newcomers get 503.
	// 0: half the server's open-file limit.
	MaxConnections int `json:"maxConnections,omitempty"`
	// TrustedProxies lists the addresses or CIDR ranges (such as
	// "10.0.0.0/8") of proxies in front of gantry whose X-Forwarded-For,
	// -Proto, -Host, Forwarded and X-Real-IP headers are kept. Empty: those
	// headers are replaced for every client.
	TrustedProxies []string `json:"trustedProxies,omitempty"`
	// TLS, when set, terminates TLS on the listener.
	TLS *ProxyTLS `json:"tls,omitempty"`
}

// ProxyTimeouts are the proxy's timeouts, each a duration such as "30s";
// empty: the default in parentheses.
type ProxyTimeouts struct {
	// Header bounds reading a request head (60s); then 408.
	Header string `json:"header,omitempty"`
	// Body is the longest a request body may stall (60s); then 408.
	Body string `json:"body,omitempty"`
	// Connect bounds connecting to an instance (2s); then 504.
	Connect string `json:"connect,omitempty"`
	// ResponseHeader bounds an instance's wait before its response head
	// (60s); then 504, counted to the revision.
	ResponseHeader string `json:"responseHeader,omitempty"`
	// Upstream is the longest an instance's response body may stall (60s).
	Upstream string `json:"upstream,omitempty"`
	// ClientWrite is the longest a client may take nothing of its
	// response (60s); then the connection is closed.
	ClientWrite string `json:"clientWrite,omitempty"`
	// KeepAlive is how long a client connection may sit idle between
	// requests (75s).
	KeepAlive string `json:"keepAlive,omitempty"`
}

// ProxyTLS names the PEM files of the certificate the proxy presents. They
// are loaded again when they change, without dropping connections.
type ProxyTLS struct {
	// CertFile holds the certificate chain, leaf first.
	CertFile string `json:"certFile"`
	// KeyFile holds the leaf's private key.
	KeyFile string `json:"keyFile"`
}
