package spec

import (
	"errors"
	"strings"
	"testing"
)

// TestParse_BadSpecs checks that each broken document yields exactly one
// error, at the right line, column and field path, saying the right thing.
func TestParse_BadSpecs(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		line, col int
		path      string
		fragment  string
	}{
		{
			name: "unknown field suggests the closest",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replica: 3
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 5, col: 3, path: "spec.replica", fragment: `unknown field "replica"; did you mean "replicas"?`,
		},
		{
			name: "unknown field far from any lists the known ones",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments: [{name: dev}]
zzz: 1
`,
			line: 7, col: 1, path: "zzz", fragment: "known fields: apiVersion, environments, hooks, kind, metadata, releaseNotes, spec",
		},
		{
			name: "duplicate key",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: 3
  workload: {command: ./server}
  replicas: 4
environments: [{name: dev}]
`,
			line: 7, col: 3, path: "spec.replicas", fragment: `duplicate key "replicas" (first set on line 5)`,
		},
		{
			name: "quoted number where a number belongs",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: "3"
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 5, col: 3, path: "spec.replicas", fragment: "remove the quotes",
		},
		{
			name: "number where a string belongs",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    command: ./server
    env:
      - {name: PORT, value: 8080}
environments: [{name: dev}]
`,
			line: 8, col: 22, path: "spec.workload.env[0].value", fragment: `got the number 8080; quote it: "8080"`,
		},
		{
			name: "list where a mapping belongs",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: [./server]
environments: [{name: dev}]
`,
			line: 5, col: 3, path: "spec.workload", fragment: "want a mapping of fields, got a list",
		},
		{
			name: "maxSurge neither number nor percentage",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    rollingUpdate:
      maxSurge: "1x"
environments: [{name: dev}]
`,
			line: 8, col: 7, path: "spec.strategy.rollingUpdate.maxSurge",
			fragment: `"1x" is neither a whole number nor a percentage such as "25%"; use 1 or "25%"`,
		},
		{
			name: "maxSurge and maxUnavailable both 0",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    rollingUpdate:
      maxSurge: 0
      maxUnavailable: 0
environments: [{name: dev}]
`,
			line: 9, col: 7, path: "spec.strategy.rollingUpdate.maxUnavailable", fragment: "both resolve to 0 with 3 replicas",
		},
		{
			name: "maxUnavailable percentage rounds down to 0 with maxSurge 0",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: 3
  workload: {command: ./server}
  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: "25%"}
environments: [{name: dev}]
`,
			line: 8, col: 34, path: "spec.strategy.rollingUpdate.maxUnavailable", fragment: "maxSurge 0 and maxUnavailable 25% both resolve to 0",
		},
		{
			name: "maxUnavailable above 100%",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    rollingUpdate: {maxUnavailable: "150%"}
environments: [{name: dev}]
`,
			line: 7, col: 21, path: "spec.strategy.rollingUpdate.maxUnavailable", fragment: `150% is more than 100%`,
		},
		{
			name: "wrong apiVersion",
			yaml: `apiVersion: apps/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 1, col: 1, path: "apiVersion", fragment: `"apps/v1" is not supported; use gantry.dev/v1`,
		},
		{
			name: "name not a DNS label",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata:
  name: Gemini_API
spec:
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 4, col: 3, path: "metadata.name", fragment: `such as "gemini-api"`,
		},
		{
			name: "missing name points at metadata",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata:
  labels: {team: web}
spec:
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 3, col: 1, path: "metadata.name", fragment: "required",
		},
		{
			name: "replicas out of range",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  replicas: -1
  workload: {command: ./server}
environments: [{name: dev}]
`,
			line: 5, col: 3, path: "spec.replicas", fragment: "must be between 0 and 1000, got -1",
		},
		{
			name: "command required for the local backend",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    image: api:1
environments: [{name: dev}]
`,
			line: 5, col: 3, path: "spec.workload.command", fragment: "required because environment dev uses the local backend",
		},
		{
			name: "image required for kubernetes",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - {name: dev}
  - {name: prod, backend: kubernetes}
`,
			line: 5, col: 3, path: "spec.workload.image", fragment: "required because environment prod uses the kubernetes backend",
		},
		{
			name: "unknown placeholder",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    command: ./server
    args: ["--port", "{{.Port}}", "--version", "{{.Verison}}"]
environments: [{name: dev}]
`,
			line: 7, col: 48, path: "spec.workload.args[3]", fragment: "unknown placeholder {{.Verison}}; did you mean {{.Version}}?",
		},
		{
			name: "placeholder syntax",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    command: ./server
    workingDir: "/srv/{{.App"
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.workload.workingDir", fragment: "placeholder syntax",
		},
		{
			name: "env var name",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload:
    command: ./server
    env:
      - name: LOG-LEVEL
        value: debug
environments: [{name: dev}]
`,
			line: 8, col: 9, path: "spec.workload.env[0].name", fragment: `not a valid variable name`,
		},
		{
			name: "probe without httpGet",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  readinessProbe:
    periodSeconds: 5
environments: [{name: dev}]
`,
			line: 6, col: 3, path: "spec.readinessProbe.httpGet", fragment: "required; gantry probes over HTTP",
		},
		{
			name: "probe path without slash",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  livenessProbe:
    httpGet: {path: health}
environments: [{name: dev}]
`,
			line: 7, col: 15, path: "spec.livenessProbe.httpGet.path", fragment: `must start with '/', such as "/health"`,
		},
		{
			name: "probe port out of range",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  livenessProbe:
    httpGet:
      path: /health
      port: 70000
environments: [{name: dev}]
`,
			line: 9, col: 7, path: "spec.livenessProbe.httpGet.port", fragment: "between 1 and 65535, got 70000",
		},
		{
			name: "liveness successThreshold",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  livenessProbe:
    httpGet: {path: /health}
    successThreshold: 2
environments: [{name: dev}]
`,
			line: 8, col: 5, path: "spec.livenessProbe.successThreshold", fragment: "must be 1 for a liveness probe",
		},
		{
			name: "probe negative period",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  readinessProbe:
    httpGet: {path: /ready}
    periodSeconds: -5
environments: [{name: dev}]
`,
			line: 8, col: 5, path: "spec.readinessProbe.periodSeconds", fragment: "must be at least 0, got -5; leave it out for 10",
		},
		{
			name: "strategy type case",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy: {type: canary}
environments: [{name: dev}]
`,
			line: 6, col: 14, path: "spec.strategy.type", fragment: `"canary" is not a strategy; did you mean Canary?`,
		},
		{
			name: "sub-strategy of another type",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    canary: {steps: [{setWeight: 10}]}
environments: [{name: dev}]
`,
			line: 8, col: 5, path: "spec.strategy.canary", fragment: "only allowed when type is Canary, but type is BlueGreen",
		},
		{
			name: "sub-strategy without type",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    blueGreen: {}
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.strategy.blueGreen", fragment: "add type: BlueGreen",
		},
		{
			name: "canary step with both fields",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 10
        - setWeight: 20
          pause: {duration: 1m}
environments: [{name: dev}]
`,
			line: 11, col: 11, path: "spec.strategy.canary.steps[1]", fragment: "this one sets several",
		},
		{
			name: "canary weight above 100",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: Canary
    canary:
      steps:
        - setWeight: 150
environments: [{name: dev}]
`,
			line: 10, col: 11, path: "spec.strategy.canary.steps[0].setWeight", fragment: "between 0 and 100, got 150",
		},
		{
			name: "setFlag percentage above 100",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: Canary
    canary:
      steps:
        - setFlag: {name: new-ai-agent, percentage: 120}
environments: [{name: dev}]
`,
			line: 10, col: 41, path: "spec.strategy.canary.steps[0].setFlag.percentage", fragment: "between 0 and 100, got 120",
		},
		{
			name: "pause duration without unit",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: Canary
    canary:
      steps:
        - pause: {duration: "30"}
environments: [{name: dev}]
`,
			line: 10, col: 19, path: "spec.strategy.canary.steps[0].pause.duration", fragment: `"30" is not a duration`,
		},
		{
			name: "pause duration not positive",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: Canary
    canary:
      steps:
        - pause: {duration: 0s}
environments: [{name: dev}]
`,
			line: 10, col: 19, path: "spec.strategy.canary.steps[0].pause.duration", fragment: "must be positive",
		},
		{
			name: "previewListen without port",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen: {previewListen: localhost}
environments: [{name: dev}]
`,
			line: 8, col: 17, path: "spec.strategy.blueGreen.previewListen", fragment: `"localhost" is not a host:port address`,
		},
		{
			name: "progress deadline not above minReady",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  minReadySeconds: 30
  progressDeadlineSeconds: 30
environments: [{name: dev}]
`,
			line: 7, col: 3, path: "spec.progressDeadlineSeconds", fragment: "must be greater than minReadySeconds (30), got 30",
		},
		{
			name: "negative grace period",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  terminationGracePeriodSeconds: -1
environments: [{name: dev}]
`,
			line: 6, col: 3, path: "spec.terminationGracePeriodSeconds", fragment: "must be at least 0, got -1",
		},
		{
			name: "bad quantity",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  resources:
    limits: {memory: 512MB}
environments: [{name: dev}]
`,
			line: 7, col: 14, path: "spec.resources.limits.memory", fragment: `"512MB" is not a Kubernetes quantity; use bytes with a suffix such as "256Mi"`,
		},
		{
			name: "request above limit",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  resources:
    requests: {cpu: "1"}
    limits: {cpu: 500m}
environments: [{name: dev}]
`,
			line: 7, col: 16, path: "spec.resources.requests.cpu", fragment: "request 1 is above the limit 500m",
		},
		{
			name: "no environments",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
`,
			line: 1, col: 1, path: "environments", fragment: "at least one environment is required",
		},
		{
			name: "duplicate environment names",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - name: dev
  - name: dev
`,
			line: 8, col: 5, path: "environments[1].name", fragment: "already declared as environments[0]",
		},
		{
			name: "unknown backend",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - name: dev
    backend: docker
`,
			line: 8, col: 5, path: "environments[0].backend", fragment: `"docker" is not a backend; use local (the default) or kubernetes`,
		},
		{
			name: "proxy listen port out of range",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - name: dev
    proxy: {listen: "127.0.0.1:99999"}
`,
			line: 8, col: 13, path: "environments[0].proxy.listen", fragment: `has port "99999"`,
		},
		{
			name: "two environments on one port",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - {name: dev, proxy: {listen: "127.0.0.1:8081"}}
  - {name: staging, proxy: {listen: "127.0.0.1:9000"}}
  - {name: prod, proxy: {listen: ":8081"}}
`,
			line: 9, col: 26, path: "environments[2].proxy.listen", fragment: "already used by environment dev (environments[0].proxy.listen)",
		},
		{
			name: "environment override validated like the base",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - name: prod
    strategy:
      type: Canary
      canary:
        steps: [{setWeight: 5}, {}]
`,
			line: 11, col: 33, path: "environments[0].strategy.canary.steps[1]", fragment: "this one sets none",
		},
		{
			name: "environment limit override below the base request",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  resources:
    requests: {memory: 256Mi}
    limits: {memory: 512Mi}
environments:
  - name: dev
    resources:
      limits: {memory: 128Mi}
`,
			line: 11, col: 5, path: "environments[0].resources.requests.memory", fragment: "request 256Mi is above the limit 128Mi in environment dev",
		},
		{
			name: "environment replicas make the base strategy impossible",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    rollingUpdate: {maxSurge: "0%", maxUnavailable: "50%"}
environments:
  - name: dev
    replicas: 1
`,
			line: 10, col: 5, path: "environments[0].replicas", fragment: "both resolve to 0 with 1 replicas in environment dev",
		},
		{
			name: "analysis maxUnhealthyPercent above 100",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxUnhealthyPercent: 101
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxUnhealthyPercent", fragment: "between 0 and 100, got 101",
		},
		{
			name: "analysis baseline misspelt",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxUnhealthyPercent: 20
    baseline: primry
environments: [{name: dev}]
`,
			line: 8, col: 5, path: "spec.analysis.baseline", fragment: "\"primry\" is not a baseline; did you mean primary?; use likeForLike",
		},
		{
			name: "analysis baseline not a word gantry knows",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis: {alpha: 0.05, baseline: fresh}
environments: [{name: dev}]
`,
			line: 6, col: 27, path: "spec.analysis.baseline", fragment: "\"fresh\" is not a baseline; use likeForLike",
		},
		{
			name: "analysis maxUnhealthyPercent negative",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxUnhealthyPercent: -1
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxUnhealthyPercent", fragment: "between 0 and 100, got -1",
		},
		{
			name: "analysis maxErrorPercent 0",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxErrorPercent: 0
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxErrorPercent", fragment: "above 0 and at most 100, got 0; leave it out for 5",
		},
		{
			name: "analysis maxErrorPercent above 100",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxErrorPercent: 100.5
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxErrorPercent", fragment: "got 100.5",
		},
		{
			name: "analysis maxErrorPercent quoted",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxErrorPercent: "5"
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxErrorPercent", fragment: "got the string \"5\"; remove the quotes",
		},
		{
			name: "analysis maxErrorPercent not a number",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxErrorPercent: .nan
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxErrorPercent", fragment: "want a finite number",
		},
		{
			name: "analysis maxLatencyRatio not above 1",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    maxLatencyRatio: 1
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.maxLatencyRatio", fragment: "must be above 1",
		},
		{
			name: "analysis alpha above 0.5",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    alpha: 0.6
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.alpha", fragment: "above 0 and at most 0.5, got 0.6; leave it out for 0.01",
		},
		{
			name: "analysis alpha 0",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    alpha: 0
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.alpha", fragment: "above 0 and at most 0.5, got 0",
		},
		{
			name: "analysis minRequests 0",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    minRequests: 0
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.minRequests", fragment: "between 1 and 10000000, got 0; leave it out for 500",
		},
		{
			name: "analysis minRequests too many",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    minRequests: 10000001
environments: [{name: dev}]
`,
			line: 7, col: 5, path: "spec.analysis.minRequests", fragment: "got 10000001",
		},
		{
			name: "analysis disabled misspelled",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    disabled: [ErrorRate, LatencyRatoi]
environments: [{name: dev}]
`,
			line: 7, col: 27, path: "spec.analysis.disabled[1]", fragment: "\"LatencyRatoi\" is not a check; did you mean LatencyRatio?",
		},
		{
			name: "analysis disabled wrong case",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    disabled: [errorrate]
environments: [{name: dev}]
`,
			line: 7, col: 16, path: "spec.analysis.disabled[0]", fragment: "did you mean ErrorRate?",
		},
		{
			name: "analysis disabled far from any",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    disabled: [Everything]
environments: [{name: dev}]
`,
			line: 7, col: 16, path: "spec.analysis.disabled[0]", fragment: "use one of UnhealthyInstances, ErrorRate, LatencyRatio, Memory, CPU, Dependency, ErrorTest, LatencyTest, ErrorEvidence, LatencyEvidence",
		},
		{
			name: "analysis disabled twice",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  analysis:
    disabled: [CPU, Memory, CPU]
environments: [{name: dev}]
`,
			line: 7, col: 29, path: "spec.analysis.disabled[2]", fragment: "CPU is already listed as spec.analysis.disabled[0]",
		},
		{
			name: "smoke test with path and command",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /health, command: [./smoke.sh]}
environments: [{name: dev}]
`,
			line: 10, col: 11, path: "spec.strategy.blueGreen.smokeTests[0]", fragment: "exactly one of path or command, and this one sets both",
		},
		{
			name: "smoke test with neither path nor command",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {name: empty}
environments: [{name: dev}]
`,
			line: 10, col: 11, path: "spec.strategy.blueGreen.smokeTests[0]", fragment: "this one sets neither; add path: /health",
		},
		{
			name: "smoke test path without slash",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: health}
environments: [{name: dev}]
`,
			line: 10, col: 12, path: "spec.strategy.blueGreen.smokeTests[0].path", fragment: "\"health\" must start with '/', such as \"/health\"",
		},
		{
			name: "smoke test method in lowercase",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, method: get}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].method", fragment: "\"get\" must be written in capitals: GET",
		},
		{
			name: "smoke test method misspelled",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, method: FETCH}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].method", fragment: `"FETCH" is not an HTTP method a smoke test can send; did you mean PATCH?`,
		},
		{
			name: "smoke test unknown method",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, method: SUBSCRIBE}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].method", fragment: "use one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
		},
		{
			name: "smoke test expectStatus out of range",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, expectStatus: 600}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].expectStatus", fragment: "between 100 and 599, got 600",
		},
		{
			name: "smoke test body with a command",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {command: [./smoke.sh], body: x}
environments: [{name: dev}]
`,
			line: 10, col: 35, path: "spec.strategy.blueGreen.smokeTests[0].body", fragment: "only applies to an HTTP smoke test (one with path)",
		},
		{
			name: "smoke test expectBody with a command",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {command: [./smoke.sh], expectBody: ok}
environments: [{name: dev}]
`,
			line: 10, col: 35, path: "spec.strategy.blueGreen.smokeTests[0].expectBody", fragment: "remove expectBody",
		},
		{
			name: "smoke test command without a program",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {command: ["", --fast]}
environments: [{name: dev}]
`,
			line: 10, col: 12, path: "spec.strategy.blueGreen.smokeTests[0].command", fragment: "must start with the program to run",
		},
		{
			name: "smoke test empty command",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {command: []}
environments: [{name: dev}]
`,
			line: 10, col: 12, path: "spec.strategy.blueGreen.smokeTests[0].command", fragment: "must start with the program to run",
		},
		{
			name: "smoke test timeout above an hour",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, timeoutSeconds: 3601}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].timeoutSeconds", fragment: "between 0 and 3600, got 3601; leave it out for 10",
		},
		{
			name: "smoke test negative timeout",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {path: /, timeoutSeconds: -1}
environments: [{name: dev}]
`,
			line: 10, col: 21, path: "spec.strategy.blueGreen.smokeTests[0].timeoutSeconds", fragment: "got -1",
		},
		{
			name: "smoke test names repeated",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
  strategy:
    type: BlueGreen
    blueGreen:
      smokeTests:
        - {name: up, path: /}
        - {name: up, path: /health}
environments: [{name: dev}]
`,
			line: 11, col: 12, path: "spec.strategy.blueGreen.smokeTests[1].name", fragment: "\"up\" is already the name of spec.strategy.blueGreen.smokeTests[0]",
		},
		{
			name: "environment smoke tests validated like the base",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
  - name: prod
    strategy:
      type: BlueGreen
      blueGreen:
        smokeTests: [{path: /}, {command: [./smoke.sh], method: POST}]
`,
			line: 11, col: 57, path: "environments[0].strategy.blueGreen.smokeTests[1].method", fragment: "only applies to an HTTP smoke test",
		},
		{
			name: "second document",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments: [{name: dev}]
---
apiVersion: gantry.dev/v1
`,
			line: 8, col: 1, path: "", fragment: "a second YAML document starts here",
		},
		{
			name: "yaml syntax",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api
`,
			line: 3, col: 0, path: "", fragment: "YAML syntax: did not find expected ',' or '}'",
		},
		{
			name: "proxy timeout not a duration",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
- name: dev
  proxy:
    timeouts: {header: ten}
`,
			line: 9, col: 16, path: "environments[0].proxy.timeouts.header", fragment: `"ten" is not a positive duration`,
		},
		{
			name: "trusted proxy not a range",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
- name: dev
  proxy:
    trustedProxies: [10.0.0.0/8, lb.example]
`,
			line: 9, col: 34, path: "environments[0].proxy.trustedProxies[1]", fragment: `"lb.example" is not an address or CIDR range`,
		},
		{
			name: "tls without a key",
			yaml: `apiVersion: gantry.dev/v1
kind: App
metadata: {name: api}
spec:
  workload: {command: ./server}
environments:
- name: dev
  proxy:
    tls: {certFile: cert.pem}
`,
			line: 9, col: 5, path: "environments[0].proxy.tls", fragment: "certFile and keyFile are both required",
		},
		{
			name: "empty file",
			yaml: "# nothing yet\n",
			line: 1, col: 1, path: "", fragment: "empty file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := Parse("gantry.yaml", []byte(tt.yaml))
			if app != nil {
				t.Errorf("Parse returned an app along with error %v", err)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse error = %v (%T), want an ErrorList", err, err)
			}
			if len(list) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(list), list)
			}
			got := list[0]
			if got.File != "gantry.yaml" || got.Line != tt.line || got.Column != tt.col || got.Path != tt.path {
				t.Errorf("got %s:%d:%d %q, want gantry.yaml:%d:%d %q\n%v",
					got.File, got.Line, got.Column, got.Path, tt.line, tt.col, tt.path, got)
			}
			if !strings.Contains(got.Message, tt.fragment) {
				t.Errorf("message %q does not contain %q", got.Message, tt.fragment)
			}
		})
	}
}
