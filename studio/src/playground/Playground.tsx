export default function Playground() { return <h1>API playground</h1>; }
