export default function ApiDocs({ name }: { name: string | null }) { return <h1>API docs {name}</h1>; }
