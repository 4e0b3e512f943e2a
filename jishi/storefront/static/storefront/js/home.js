// Home page: the banner carousel (scroll-snap; dots; auto-advance that pauses while touched or hidden)
// and the flash-sale countdown.
(function () {
  "use strict";
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  document.querySelectorAll("[data-carousel]").forEach(function (root) {
    var track = root.querySelector("[data-track]");
    var slides = track.querySelectorAll("[data-slide]");
    var dots = root.querySelectorAll("[data-dot]");
    var index = 0, timer = null;
    function go(i) { track.scrollTo({ left: i * track.clientWidth, behavior: reduced ? "auto" : "smooth" }); }
    function mark() {
      index = Math.round(track.scrollLeft / Math.max(track.clientWidth, 1));
      dots.forEach(function (d, i) { d.classList.toggle("on", i === index); });
    }
    function stop() { if (timer) { clearInterval(timer); timer = null; } }
    function start() {
      stop();
      if (slides.length > 1 && !reduced) { timer = setInterval(function () { go((index + 1) % slides.length); }, 4000); }
    }
    track.addEventListener("scroll", function () { window.requestAnimationFrame(mark); }, { passive: true });
    dots.forEach(function (d) { d.addEventListener("click", function () { go(+d.dataset.dot); start(); }); });
    root.addEventListener("touchstart", stop, { passive: true });
    root.addEventListener("touchend", start);
    root.addEventListener("mouseenter", stop);
    root.addEventListener("mouseleave", start);
    document.addEventListener("visibilitychange", function () { if (document.hidden) { stop(); } else { start(); } });
    start();
  });

  var clocks = document.querySelectorAll(".hm-clock [data-ends]");
  function tick() {
    clocks.forEach(function (n) {
      var left = Math.max(0, Math.floor((Date.parse(n.dataset.ends) - Date.now()) / 1000));
      n.textContent = [Math.floor(left / 3600), Math.floor(left % 3600 / 60), left % 60]
        .map(function (v) { return String(v).padStart(2, "0"); }).join(":");
    });
  }
  if (clocks.length) { tick(); setInterval(tick, 1000); }
})();
