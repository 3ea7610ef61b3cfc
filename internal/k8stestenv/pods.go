package k8stestenv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

var logsGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// CustomStatus is the pod annotation that makes kwok leave a pod's status
// to Pods (and to tests that patch it).
var CustomStatus = map[string]string{"kwok.x-k8s.io/status": "custom"}

// NoKubelet is the annotation (value "none") of a pod Pods does not start
// or report, whose status the test patches itself; Pods still removes it
// once deleted.
const NoKubelet = "k8stestenv/kubelet"

// Pods plays the kubelet for the pods annotated CustomStatus: once a pod
// is scheduled it runs the sample workload as a real process on a
// loopback port (its output in a file that kwok serves as the pod's log),
// gives the pod an IP, reports it Running, and Ready once the process
// answers GET /ready; when the pod is deleted it stops the process
// (SIGTERM, then waits) and removes the pod, as a kubelet does. Reach maps
// a pod's address to its process.
type Pods struct {
	t       testing.TB
	sample  string
	dir     string
	dyn     dynamic.Interface
	mu      sync.Mutex
	byPod   map[string]*podProc // by namespace/name
	byAddr  map[string]string   // pod IP:port -> 127.0.0.1:port
	stopped chan struct{}
	admin   *Env
	nextIP  int
}

type podProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// RunPods starts serving the pods of namespace ns that carry the label
// selector sel with the sample binary, until the test ends. The version
// a process reports is the pod's gantry.dev/version annotation.
func (e *Env) RunPods(t testing.TB, ns, sel, sample string) *Pods {
	t.Helper()
	dyn, err := dynamic.NewForConfig(e.Admin)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pods{t: t, sample: sample, dir: t.TempDir(), dyn: dyn, byPod: map[string]*podProc{}, byAddr: map[string]string{}, stopped: make(chan struct{}), admin: e}
	f := informers.NewSharedInformerFactoryWithOptions(e.Client, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel }))
	inf := f.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.sync(obj) },
		UpdateFunc: func(_, obj any) { p.sync(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				p.stop(pod)
			}
		},
	})
	f.Start(p.stopped)
	f.WaitForCacheSync(p.stopped)
	t.Cleanup(func() {
		close(p.stopped)
		p.mu.Lock()
		procs := make([]*podProc, 0, len(p.byPod))
		for _, pr := range p.byPod {
			procs = append(procs, pr)
		}
		p.mu.Unlock()
		for _, pr := range procs {
			_ = pr.cmd.Process.Kill()
			<-pr.done
		}
	})
	return p
}

// Reach returns where the process of the pod at addr (IP:port) serves;
// addr itself when no process was started for it.
func (p *Pods) Reach(addr string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byAddr[addr]; ok {
		return a
	}
	return addr
}

func (p *Pods) sync(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.Annotations["kwok.x-k8s.io/status"] != "custom" {
		return
	}
	if pod.DeletionTimestamp != nil {
		p.stop(pod)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.dyn.Resource(logsGVR).Namespace(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
		zero := int64(0)
		_ = p.admin.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		return
	}
	if pod.Annotations[NoKubelet] == "none" || pod.Spec.NodeName == "" || len(pod.Spec.Containers) == 0 || len(pod.Spec.Containers[0].Ports) == 0 {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	p.mu.Lock()
	_, running := p.byPod[key]
	p.mu.Unlock()
	if running {
		return
	}
	if err := p.start(pod, key); err != nil {
		p.t.Errorf("start a process for pod %s: %v", key, err)
	}
}

func (p *Pods) start(pod *corev1.Pod, key string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	logPath := filepath.Join(p.dir, pod.Namespace+"_"+pod.Name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.nextIP++
	ip := fmt.Sprintf("10.245.%d.%d", p.nextIP/250, p.nextIP%250+1)
	p.mu.Unlock()
	cmd := exec.Command(p.sample, "--port", strconv.Itoa(port), "--version", pod.Annotations["gantry.dev/version"], "--instance", pod.Name)
	// kwok serves the file in the CRI log format the kubelet writes.
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		out.Close()
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		out.Close()
		return err
	}
	pr := &podProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		lines := bufio.NewScanner(pipe)
		for lines.Scan() {
			fmt.Fprintf(out, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), lines.Text())
		}
		_ = cmd.Wait()
		out.Close()
		close(pr.done)
	}()
	p.mu.Lock()
	p.byPod[key] = pr
	local := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p.byAddr[net.JoinHostPort(ip, strconv.Itoa(int(pod.Spec.Containers[0].Ports[0].ContainerPort)))] = local
	p.mu.Unlock()
	logs := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
		"metadata": map[string]any{"name": pod.Name, "namespace": pod.Namespace},
		"spec": map[string]any{"logs": []any{map[string]any{
			"containers": []any{pod.Spec.Containers[0].Name}, "logsFile": logPath, "follow": true,
		}}},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.dyn.Resource(logsGVR).Namespace(pod.Namespace).Create(ctx, logs, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("kwok Logs object: %w", err)
	}
	started := metav1.Now()
	if err := p.setStatus(pod, ip, started, false); err != nil {
		return err
	}
	go p.probe(pod, ip, local, started, pr)
	return nil
}

// probe reports the pod Ready once its process answers GET /ready.
func (p *Pods) probe(pod *corev1.Pod, ip, addr string, started metav1.Time, pr *podProc) {
	c := http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-pr.done:
			return
		case <-p.stopped:
			return
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := c.Get("http://" + addr + "/ready")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if err := p.setStatus(pod, ip, started, true); err != nil {
				p.t.Logf("report pod %s ready: %v", pod.Name, err)
			}
			return
		}
	}
}

// setStatus reports the pod running on ip since started, ready or not.
func (p *Pods) setStatus(pod *corev1.Pod, ip string, started metav1.Time, ready bool) error {
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	now := metav1.Now()
	status := corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "127.0.0.1", StartTime: &started,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.ContainersReady, Status: cond, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: cond, LastTransitionTime: now},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: pod.Spec.Containers[0].Name, Image: pod.Spec.Containers[0].Image, Ready: ready, Started: &ready,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		}},
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = p.admin.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// stop ends the pod's process as the kubelet would: SIGTERM, then waits.
func (p *Pods) stop(pod *corev1.Pod) {
	key := pod.Namespace + "/" + pod.Name
	p.mu.Lock()
	pr := p.byPod[key]
	p.mu.Unlock()
	if pr == nil {
		return
	}
	_ = pr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-pr.done:
	case <-time.After(30 * time.Second):
		_ = pr.cmd.Process.Kill()
		<-pr.done
	}
}
